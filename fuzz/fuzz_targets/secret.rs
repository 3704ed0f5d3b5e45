//! Format 3's untrusted cryptographic bytes: a secret ballot and a
//! decryption share of any length and content, checked in the context of
//! the test vectors (so mutated valid ballots reach every proof step), and a
//! dealt polynomial and sealed shares through the ceremony. Never panics;
//! a ballot or share that verifies must survive an encode/decode round trip.
#![no_main]

use dauys_core::ceremony::{Ceremony, Dealt};
use dauys_core::event::SealedShare;
use dauys_core::secret::{BallotContext, DecryptionShare, ElectionKey, EncryptedTally, SecretBallot, ShareContext};
use libfuzzer_sys::fuzz_target;

fn hex32(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    // The context of fixtures/vectors.json "secret_format_3".
    let ledger_id = hex32("f54548c9e5fb1054570527021b1723a71c4c2ec4c359b1d97bd2d7c1901f6ffe");
    let referendum = hex32("3ee8b1288f1db8dc99a63d34c9309719fd6f66aca7d6b34cd0b8b72ef66422bc");
    let voter = hex32("fb7df8756ae027e0f0d08cc560bd295882c6f1ec322db954eb3cc64f873bf879");
    let key = ElectionKey(hex32("9ef459134d332416e2e20f1efd336849d6450d5eea82c04d549d5e6e922e6545"));
    let options = 2 + usize::from(selector >> 2) % 7;
    match selector & 3 {
        0 => {
            if let Some(ballot) = SecretBallot::from_bytes(options, rest) {
                let context = BallotContext { ledger_id: &ledger_id, referendum: &referendum, voter: &voter, key: &key, options };
                if ballot.verify(&context).is_ok() {
                    assert_eq!(SecretBallot::from_bytes(options, &ballot.to_bytes()).as_ref(), Some(&ballot));
                    assert!(ballot.ciphertexts_unchecked().is_ok());
                }
            }
        }
        1 => {
            let Ok(trustee_key) = ElectionKey(hex32("7867853144fb9560671497b80e6c7808f98cd5b8196f74fca5b95e96611a4247")).public_key() else {
                return;
            };
            if let Some(share) = DecryptionShare::from_bytes(options, rest) {
                let context = ShareContext { ledger_id: &ledger_id, referendum: &referendum, trustee: 2 };
                let _ = share.verify(&context, &trustee_key, &EncryptedTally::new(options));
            }
        }
        2 => {
            // A polynomial, its proof and opening from the bytes, dealt by
            // trustee 0 of a ceremony where everyone committed.
            let t = 2 + usize::from(selector >> 2) % 3;
            let n = t + 1;
            let trustees: Vec<[u8; 32]> = (0..n).map(|i| [u8::try_from(i + 1).unwrap_or(1); 32]).collect();
            let mut ceremony = Ceremony::new(referendum, trustees.clone(), t, 2);
            let mut chunks = rest.chunks_exact(32).map(|c| {
                let mut out = [0u8; 32];
                out.copy_from_slice(c);
                out
            });
            for trustee in &trustees {
                let (Some(commitment), Some(box_key)) = (chunks.next(), chunks.next()) else { return };
                let _ = ceremony.commit(trustee, commitment, box_key);
            }
            let polynomial: Vec<[u8; 32]> = chunks.by_ref().take(t).collect();
            let proof: Vec<u8> = chunks.by_ref().take(t + 1).flatten().collect();
            let Some(opening) = chunks.next() else { return };
            let _ = ceremony.deal(&trustees[0], &Dealt { polynomial, proof, opening });
        }
        _ => {
            // Sealed shares and a complaint against arbitrary bytes.
            let trustees: Vec<[u8; 32]> = (0..3).map(|i| [i + 1; 32]).collect();
            let mut ceremony = Ceremony::new(referendum, trustees.clone(), 2, 2);
            let shares: Vec<SealedShare> = rest
                .chunks_exact(72)
                .map(|c| {
                    let mut nonce = [0u8; 24];
                    let mut sealed = [0u8; 48];
                    nonce.copy_from_slice(&c[..24]);
                    sealed.copy_from_slice(&c[24..]);
                    SealedShare { nonce, sealed }
                })
                .collect();
            let _ = ceremony.send(&trustees[0], &shares);
            let _ = ceremony.complain(&trustees[1], 0, &[selector; 32]);
        }
    }
});
