// dauys web verifier: the page. Reads the export (from this node, another
// node, a static mirror's entry bundles, or a file), cuts it into batches of whole lines, has signature workers on
// every core check the signatures, and feeds batches in order to the
// coordinator worker that runs the rule core. The main thread only moves
// bytes and draws.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const T = {
    en: {
      tagline: "ledger verifier", language: "Language", source: "Source", sourceNode: "This node",
      sourceUrl: "Another node or mirror (URL)", sourceFile: "A file on this device", urlLabel: "Node URL",
      fileLabel: "Export file (JSON Lines)", verify: "Verify", verdictTitle: "Verdict", pending: "Not verified yet",
      intro: "This page checks every entry of the ledger on your own device: every signature, every hash link and every rule the commission published. It trusts nothing the server says.",
      petitions: "Petitions", referendums: "Referendums", districts: "Districts", findTitle: "Find my act",
      findLabel: "Your public key or an entry hash", find: "Find",
      footer: "Format and rules: docs/FORMAT.md. The same rule code runs in the node, the command line and this page.",
      download: "Save this page to verify offline",
      signedHead: "Node's signed head", headOk: "signed by the ledger's log key, and names exactly this log",
      headBad: "the node's signature on its head does not verify", headOther: "valid signature; the node's head names {n} entries, the export had {m}",
      trustTitle: "Witnesses (optional)", witnessesLabel: "Witness keys, one per line", quorumLabel: "Cosignatures required",
      checkpoint: "Checkpoint", cpOk: "signed by the log key{w}; its root is the tree of the first {n} entries verified",
      cpCosigned: ", cosigned by {w}", cpSeen: "; it extends the checkpoint of {m} entries this browser saw before",
      cpFirst: "; the first checkpoint of this log seen in this browser (kept, to catch a fork later)",
      cpBad: "does not check out: {p}", cpInvalid: "Invalid: the node's checkpoint does not match the log it served.",
      receiptTitle: "Check my receipt", receiptFile: "Receipt file (.tlog-proof)", receiptPaste: "Or paste the receipt here",
      receiptIntro: "Drop or paste the receipt you saved when you acted. The page checks it on this device, then fetches a few tiles (never the whole log) to check that the log still holds your act.",
      logKeyLabel: "Log key, as the commission published it (optional)", check: "Check", rcChecking: "Checking…",
      rcNoText: "Choose or paste a receipt first.",
      rcOk: "Your act is in the log: entry #{i} ({kind}, {time}), in a checkpoint of {n} entries signed by the log key{w}.",
      rcStill: "The log's latest checkpoint ({n} entries{w}) extends it: your act is still there. {t} tiles fetched; the log was not downloaded.",
      rcBad: "This receipt does not check out: {p}", rcStillBad: "The log's latest checkpoint does not extend your receipt: {p}",
      rcOffline: "No log to ask for its latest checkpoint: open this page from a node or enter a URL above.",
      rcKeyFromNode: "Log key read from the log's first entry: {k}. Compare it with the key the commission published.",
      rcPending: "Your act (entry #{i}) is in a checkpoint signed by the log, and the checkpoint the log serves now ({n} entries) is part of the same history, but does not reach your act yet: its witnesses have not cosigned it yet. Check again in a minute.",
      cpMissing: "this format 2 log served no checkpoint, so it cannot be compared with what this browser saw",
      running: "Verifying…", valid: "Valid: all {n} entries check out.", invalid: "Invalid: entry {p} is the first bad one.",
      progress: "{n} entries checked", workers: "{w} workers", entries: "Entries", head: "Head hash", ledger: "Ledger",
      jurisdiction: "Jurisdiction", asOf: "As of", enrolled: "Voters enrolled", reason: "Reason",
      online: "online", paper: "on paper", threshold: "threshold", until: "signing until", council: "Council",
      accept: "accepted", reject: "rejected", noneYet: "None yet.", ballots: "ballots", electorate: "electorate",
      needed: "needed to approve", outcome: "Outcome", approved: "approved", not_approved: "not approved",
      declared: "declared", district: "District", supports: "Supports", none: "(no district)",
      noActs: "No entries found for this key or hash.", position: "entry", counts: "counts", about: "about",
      error: "Could not read the source: {m}", chooseFile: "Choose a file first.", chooseUrl: "Enter a URL first.",
      status: { collecting: "collecting", lapsed: "lapsed", withdrawn: "withdrawn", awaiting_ruling: "awaiting ruling",
        ruling_overdue: "ruling overdue", accepted: "accepted by council", rejected: "rejected by council", in_referendum: "in referendum" },
      phase: { scheduled: "scheduled", open: "voting open", closed: "closed", declared: "declared" },
      secretBallot: "Secret ballot", trusteesWord: "trustees", anyDecrypt: "any {k} of {n} decrypt the sum, never one ballot", ceremonyWord: "key ceremony",
      ceremony: { committing: "trustees committing", dealing: "trustees dealing", sharing: "trustees exchanging shares", complete: "complete", failed: "failed" },
      counted: "ballots counted (one per voter)", superseded: "replaced by a later ballot (re-vote)", sealed: "The count stays encrypted until the trustees decrypt the sum after voting closes.",
      decryptedBy: "decrypted by trustees {list}; {k} needed", absentTrustees: "did not decrypt: {list}", supersededAct: "replaced by your later ballot: not counted", failedBy: "trustee {a} was shown to have sent a bad share",
      secretNote: "Who voted is public, as in a polling station's register; how they voted is not.",
      reasons: {
        bad_signature: "a signature does not verify: the entry was forged or edited",
        broken_link: "the link to the previous entry is broken: history was edited, dropped or reordered",
        hash_mismatch: "the stated hash is not the hash of the entry", position_mismatch: "entries are missing or out of order",
        truncated_line: "the export was cut short", malformed_line: "a line is not a ledger entry",
        time_went_backwards: "the node's clock went backwards", wrong_ledger: "an act signed for another ledger",
        double_support: "a voter supported the same petition twice", double_ballot: "a voter voted twice",
        not_enrolled: "an act by someone who is not an enrolled voter", excluded_subject: "a petition on an excluded subject",
        screened_text: "screened text without the commission's admission", tally_mismatch: "the declared result differs from the ballots",
        outside_signing_period: "a support after the signing period", ruling_before_threshold: "a ruling before the threshold was reached",
        wrong_role: "an act by the wrong authority", ballot_outside_window: "a ballot outside the voting window", bad_genesis: "the first entry (the rules) is invalid",
        invalid_ballot: "a secret ballot whose proofs fail (forged, copied from another voter, or encrypted to the wrong key)",
        ceremony_incomplete: "a ballot before the trustees' key ceremony was complete", ceremony_failed: "an act on a referendum whose key ceremony failed",
        invalid_decryption_share: "a trustee's decryption share whose proof fails", not_a_trustee: "a ceremony step or decryption share by someone who is not a trustee",
        too_few_shares: "a result declared with fewer decryption shares than the threshold", commitment_mismatch: "a trustee's polynomial that does not match its commitment",
        ceremony_step_invalid: "an invalid step of the key ceremony", ceremony_out_of_order: "a key ceremony step out of order",
      },
    },
    ru: {
      tagline: "проверка реестра", language: "Язык", source: "Источник", sourceNode: "Этот узел",
      sourceUrl: "Другой узел или зеркало (URL)", sourceFile: "Файл на этом устройстве", urlLabel: "Адрес узла",
      fileLabel: "Файл выгрузки (JSON Lines)", verify: "Проверить", verdictTitle: "Результат проверки", pending: "Ещё не проверено",
      intro: "Эта страница проверяет каждую запись реестра на вашем устройстве: каждую подпись, каждую хеш-связь и каждое правило, опубликованное комиссией. Она не доверяет серверу.",
      petitions: "Петиции", referendums: "Референдумы", districts: "Округа", findTitle: "Найти своё действие",
      findLabel: "Ваш открытый ключ или хеш записи", find: "Найти",
      footer: "Формат и правила: docs/FORMAT.md. Один и тот же код правил работает в узле, в командной строке и на этой странице.",
      download: "Сохранить страницу для проверки без сети",
      signedHead: "Подписанная вершина узла", headOk: "подписана ключом журнала реестра и указывает ровно на этот журнал",
      headBad: "подпись узла под вершиной не сходится", headOther: "подпись верна; вершина узла указывает {n} записей, в выгрузке {m}",
      trustTitle: "Свидетели (необязательно)", witnessesLabel: "Ключи свидетелей, по одному в строке", quorumLabel: "Сколько подписей свидетелей нужно",
      checkpoint: "Контрольная точка", cpOk: "подписана ключом журнала{w}; её корень — дерево первых {n} проверенных записей",
      cpCosigned: ", заверена свидетелями: {w}", cpSeen: "; она продолжает контрольную точку из {m} записей, уже виденную этим браузером",
      cpFirst: "; первая контрольная точка этого журнала в этом браузере (сохранена, чтобы заметить развилку позже)",
      cpBad: "не сходится: {p}", cpInvalid: "Неверно: контрольная точка узла не соответствует выданному им журналу.",
      receiptTitle: "Проверить мою квитанцию", receiptFile: "Файл квитанции (.tlog-proof)", receiptPaste: "Или вставьте квитанцию сюда",
      receiptIntro: "Перетащите или вставьте квитанцию, сохранённую при вашем действии. Страница проверит её на этом устройстве и загрузит несколько фрагментов дерева (а не весь журнал), чтобы убедиться, что журнал по-прежнему содержит ваше действие.",
      logKeyLabel: "Ключ журнала, опубликованный комиссией (необязательно)", check: "Проверить", rcChecking: "Проверка…",
      rcNoText: "Сначала выберите или вставьте квитанцию.",
      rcOk: "Ваше действие есть в журнале: запись №{i} ({kind}, {time}), в контрольной точке из {n} записей, подписанной ключом журнала{w}.",
      rcStill: "Последняя контрольная точка журнала ({n} записей{w}) продолжает её: ваше действие на месте. Загружено фрагментов: {t}; весь журнал не загружался.",
      rcBad: "Квитанция не сходится: {p}", rcStillBad: "Последняя контрольная точка журнала не продолжает вашу квитанцию: {p}",
      rcOffline: "Нет журнала, у которого можно спросить последнюю контрольную точку: откройте страницу с узла или укажите адрес выше.",
      rcKeyFromNode: "Ключ журнала взят из первой записи журнала: {k}. Сверьте его с ключом, опубликованным комиссией.",
      rcPending: "Ваше действие (запись №{i}) есть в контрольной точке, подписанной журналом, и текущая контрольная точка журнала ({n} записей) — часть той же истории, но ещё не доходит до вашего действия: свидетели её пока не заверили. Проверьте через минуту.",
      cpMissing: "этот журнал формата 2 не выдал контрольную точку, поэтому его нельзя сверить с тем, что видел этот браузер",
      running: "Проверка…", valid: "Верно: все {n} записей прошли проверку.", invalid: "Нарушение: первая неверная запись — {p}.",
      progress: "проверено записей: {n}", workers: "потоков: {w}", entries: "Записей", head: "Хеш вершины", ledger: "Реестр",
      jurisdiction: "Территория", asOf: "По состоянию на", enrolled: "Зарегистрировано избирателей", reason: "Причина",
      online: "онлайн", paper: "на бумаге", threshold: "порог", until: "сбор до", council: "Маслихат",
      accept: "принята", reject: "отклонена", noneYet: "Пока нет.", ballots: "бюллетеней", electorate: "избирателей",
      needed: "нужно для принятия", outcome: "Итог", approved: "принято", not_approved: "не принято",
      declared: "объявлен", district: "Округ", supports: "Подписи", none: "(без округа)",
      noActs: "Записей с этим ключом или хешем не найдено.", position: "запись", counts: "учтено", about: "касается",
      error: "Не удалось прочитать источник: {m}", chooseFile: "Сначала выберите файл.", chooseUrl: "Сначала введите адрес.",
      status: { collecting: "сбор подписей", lapsed: "срок истёк", withdrawn: "отозвана", awaiting_ruling: "ждёт решения",
        ruling_overdue: "решение просрочено", accepted: "принята маслихатом", rejected: "отклонена маслихатом", in_referendum: "на референдуме" },
      phase: { scheduled: "назначен", open: "идёт голосование", closed: "закрыт", declared: "итоги объявлены" },
      secretBallot: "Тайное голосование", trusteesWord: "доверенных лиц", anyDecrypt: "любые {k} из {n} расшифровывают только сумму, никогда отдельный бюллетень", ceremonyWord: "церемония ключей",
      ceremony: { committing: "доверенные лица фиксируют обязательства", dealing: "доверенные лица публикуют многочлены", sharing: "доверенные лица обмениваются долями", complete: "завершена", failed: "сорвана" },
      counted: "учтено бюллетеней (один на избирателя)", superseded: "заменено более поздним бюллетенем (переголосование)", sealed: "Итог остаётся зашифрованным, пока доверенные лица не расшифруют сумму после закрытия голосования.",
      decryptedBy: "расшифровали доверенные лица {list}; нужно {k}", absentTrustees: "не участвовали в расшифровке: {list}", supersededAct: "заменён вашим более поздним бюллетенем: не учитывается", failedBy: "доказано, что доверенное лицо {a} прислало неверную долю",
      secretNote: "Кто голосовал — открыто, как в списке избирателей на участке; как голосовал — тайна.",
      reasons: {
        bad_signature: "подпись не сходится: запись подделана или изменена",
        broken_link: "разорвана связь с предыдущей записью: историю изменили, удалили или переставили",
        hash_mismatch: "указанный хеш не совпадает с записью", position_mismatch: "записи пропущены или переставлены",
        truncated_line: "выгрузка обрезана", malformed_line: "строка не является записью реестра",
        time_went_backwards: "время узла пошло назад", wrong_ledger: "действие подписано для другого реестра",
        double_support: "избиратель дважды поддержал одну петицию", double_ballot: "избиратель проголосовал дважды",
        not_enrolled: "действие лица, не внесённого в список", excluded_subject: "петиция по исключённому вопросу",
        screened_text: "текст с запрещённым термином без допуска комиссии", tally_mismatch: "объявленный итог не совпадает с бюллетенями",
        outside_signing_period: "подпись после окончания сбора", ruling_before_threshold: "решение до достижения порога",
        wrong_role: "действие неуполномоченного лица", ballot_outside_window: "бюллетень вне времени голосования", bad_genesis: "первая запись (правила) неверна",
        invalid_ballot: "тайный бюллетень с неверными доказательствами (подделан, скопирован у другого избирателя или зашифрован не тем ключом)",
        ceremony_incomplete: "бюллетень до завершения церемонии ключей", ceremony_failed: "действие по референдуму с сорванной церемонией ключей",
        invalid_decryption_share: "доля расшифровки с неверным доказательством", not_a_trustee: "шаг церемонии или доля расшифровки не от доверенного лица",
        too_few_shares: "итог объявлен при меньшем числе долей расшифровки, чем порог", commitment_mismatch: "многочлен доверенного лица не совпадает с его обязательством",
        ceremony_step_invalid: "неверный шаг церемонии ключей", ceremony_out_of_order: "шаг церемонии ключей не по порядку",
      },
    },
    kk: {
      tagline: "тізілімді тексеру", language: "Тіл", source: "Дереккөз", sourceNode: "Осы түйін",
      sourceUrl: "Басқа түйін немесе айна (URL)", sourceFile: "Осы құрылғыдағы файл", urlLabel: "Түйін мекенжайы",
      fileLabel: "Экспорт файлы (JSON Lines)", verify: "Тексеру", verdictTitle: "Тексеру нәтижесі", pending: "Әлі тексерілген жоқ",
      intro: "Бұл бет тізілімнің әр жазбасын сіздің құрылғыңызда тексереді: әр қолтаңбаны, әр хеш-байланысты және комиссия жариялаған әр ережені. Ол серверге сенбейді.",
      petitions: "Петициялар", referendums: "Референдумдар", districts: "Округтер", findTitle: "Өз әрекетімді табу",
      findLabel: "Ашық кілтіңіз немесе жазба хеші", find: "Табу",
      footer: "Пішім мен ережелер: docs/FORMAT.md. Ереже коды түйінде, командалық жолда және осы бетте бірдей.",
      download: "Желісіз тексеру үшін бетті сақтау",
      signedHead: "Түйіннің қол қойылған шыңы", headOk: "тізілімнің журнал кілтімен қол қойылған және дәл осы журналды көрсетеді",
      headBad: "түйіннің шыңдағы қолтаңбасы сәйкес емес", headOther: "қолтаңба дұрыс; түйін шыңы {n} жазбаны көрсетеді, экспортта {m}",
      trustTitle: "Куәгерлер (міндетті емес)", witnessesLabel: "Куәгер кілттері, әр жолға бірден", quorumLabel: "Қажетті куәгер қолтаңбалары",
      checkpoint: "Бақылау нүктесі", cpOk: "журнал кілтімен қол қойылған{w}; түбірі тексерілген алғашқы {n} жазбаның ағашы",
      cpCosigned: ", куәгерлер растаған: {w}", cpSeen: "; бұл браузер бұрын көрген {m} жазбалық бақылау нүктесін жалғастырады",
      cpFirst: "; бұл журналдың осы браузердегі алғашқы бақылау нүктесі (кейін айырылуды байқау үшін сақталды)",
      cpBad: "сәйкес емес: {p}", cpInvalid: "Жарамсыз: түйіннің бақылау нүктесі ол берген журналға сәйкес емес.",
      receiptTitle: "Түбіртегімді тексеру", receiptFile: "Түбіртек файлы (.tlog-proof)", receiptPaste: "Немесе түбіртекті осында қойыңыз",
      receiptIntro: "Әрекет жасағанда сақталған түбіртекті сүйреп әкеліңіз немесе қойыңыз. Бет оны осы құрылғыда тексереді, содан кейін журналда әрекетіңіз әлі бар екенін тексеру үшін ағаштың бірнеше бөлігін ғана (бүкіл журналды емес) жүктейді.",
      logKeyLabel: "Комиссия жариялаған журнал кілті (міндетті емес)", check: "Тексеру", rcChecking: "Тексерілуде…",
      rcNoText: "Алдымен түбіртекті таңдаңыз немесе қойыңыз.",
      rcOk: "Әрекетіңіз журналда бар: №{i} жазба ({kind}, {time}), журнал кілтімен қол қойылған {n} жазбалық бақылау нүктесінде{w}.",
      rcStill: "Журналдың соңғы бақылау нүктесі ({n} жазба{w}) оны жалғастырады: әрекетіңіз орнында. Жүктелген бөліктер: {t}; бүкіл журнал жүктелмеді.",
      rcBad: "Түбіртек сәйкес емес: {p}", rcStillBad: "Журналдың соңғы бақылау нүктесі түбіртегіңізді жалғастырмайды: {p}",
      rcOffline: "Соңғы бақылау нүктесін сұрайтын журнал жоқ: бетті түйіннен ашыңыз немесе жоғарыда мекенжай енгізіңіз.",
      rcKeyFromNode: "Журнал кілті журналдың алғашқы жазбасынан алынды: {k}. Оны комиссия жариялаған кілтпен салыстырыңыз.",
      rcPending: "Әрекетіңіз (№{i} жазба) журнал қол қойған бақылау нүктесінде бар, ал журналдың қазіргі бақылау нүктесі ({n} жазба) сол тарихтың бөлігі, бірақ әлі әрекетіңізге жетпейді: куәгерлер оны әлі растамаған. Бір минуттан кейін қайта тексеріңіз.",
      cpMissing: "бұл 2-формат журналы бақылау нүктесін бермеді, сондықтан оны осы браузер көргенмен салыстыру мүмкін емес",
      running: "Тексерілуде…", valid: "Дұрыс: барлық {n} жазба тексеруден өтті.", invalid: "Бұзушылық: алғашқы қате жазба — {p}.",
      progress: "тексерілген жазба: {n}", workers: "ағын: {w}", entries: "Жазбалар", head: "Соңғы хеш", ledger: "Тізілім",
      jurisdiction: "Аумақ", asOf: "Жағдай бойынша", enrolled: "Тіркелген сайлаушылар", reason: "Себебі",
      online: "онлайн", paper: "қағазда", threshold: "шек", until: "жинау мерзімі", council: "Мәслихат",
      accept: "қабылданды", reject: "қабылданбады", noneYet: "Әзірге жоқ.", ballots: "бюллетень", electorate: "сайлаушы",
      needed: "қабылдауға қажет", outcome: "Нәтиже", approved: "қабылданды", not_approved: "қабылданбады",
      declared: "жарияланды", district: "Округ", supports: "Қолдаулар", none: "(округсіз)",
      noActs: "Бұл кілт немесе хеш бойынша жазба табылмады.", position: "жазба", counts: "есептелді", about: "қатысты",
      error: "Дереккөзді оқу мүмкін болмады: {m}", chooseFile: "Алдымен файлды таңдаңыз.", chooseUrl: "Алдымен мекенжайды енгізіңіз.",
      status: { collecting: "қолдау жиналуда", lapsed: "мерзімі өтті", withdrawn: "кері қайтарылды", awaiting_ruling: "шешім күтуде",
        ruling_overdue: "шешім кешіктірілді", accepted: "мәслихат қабылдады", rejected: "мәслихат қабылдамады", in_referendum: "референдумда" },
      phase: { scheduled: "белгіленді", open: "дауыс беру жүріп жатыр", closed: "жабылды", declared: "нәтиже жарияланды" },
      secretBallot: "Жасырын дауыс беру", trusteesWord: "сенімді тұлға", anyDecrypt: "кез келген {k}/{n} тек қосындыны ашады, жеке бюллетеньді ешқашан", ceremonyWord: "кілт рәсімі",
      ceremony: { committing: "сенімді тұлғалар міндеттеме жариялауда", dealing: "сенімді тұлғалар көпмүшелерін жариялауда", sharing: "сенімді тұлғалар үлес алмасуда", complete: "аяқталды", failed: "сәтсіз" },
      counted: "есептелген бюллетень (әр сайлаушыға біреу)", superseded: "кейінгі бюллетеньмен ауыстырылды (қайта дауыс беру)", sealed: "Дауыс беру жабылған соң сенімді тұлғалар қосындыны ашқанша нәтиже шифрлаулы қалады.",
      decryptedBy: "ашқан сенімді тұлғалар: {list}; қажеті {k}", absentTrustees: "ашуға қатыспағандар: {list}", supersededAct: "кейінгі бюллетеніңізбен ауыстырылды: есептелмейді", failedBy: "{a} сенімді тұлғаның қате үлес жібергені дәлелденді",
      secretNote: "Кім дауыс бергені ашық (учаскедегі тізім сияқты); қалай дауыс бергені жасырын.",
      reasons: {
        bad_signature: "қолтаңба сәйкес емес: жазба жалған немесе өзгертілген",
        broken_link: "алдыңғы жазбамен байланыс үзілген: тарих өзгертілген, жойылған немесе ауыстырылған",
        hash_mismatch: "көрсетілген хеш жазбаға сәйкес емес", position_mismatch: "жазбалар жетіспейді немесе орны ауысқан",
        truncated_line: "экспорт қысқартылған", malformed_line: "жол тізілім жазбасы емес",
        time_went_backwards: "түйін уақыты кері кетті", wrong_ledger: "әрекет басқа тізілімге қол қойылған",
        double_support: "сайлаушы бір петицияны екі рет қолдады", double_ballot: "сайлаушы екі рет дауыс берді",
        not_enrolled: "тізімге енбеген адамның әрекеті", excluded_subject: "алынып тасталған мәселе бойынша петиция",
        screened_text: "комиссия рұқсатынсыз тыйым салынған термин", tally_mismatch: "жарияланған нәтиже бюллетеньдерге сәйкес емес",
        outside_signing_period: "жинау мерзімінен кейінгі қолдау", ruling_before_threshold: "шекке жетпей шешім қабылданды",
        wrong_role: "өкілеттігі жоқ тұлғаның әрекеті", ballot_outside_window: "дауыс беру уақытынан тыс бюллетень", bad_genesis: "алғашқы жазба (ережелер) жарамсыз",
        invalid_ballot: "дәлелдемесі қате жасырын бюллетень (жалған, басқа сайлаушыдан көшірілген немесе басқа кілтпен шифрланған)",
        ceremony_incomplete: "кілт рәсімі аяқталмай тұрып берілген бюллетень", ceremony_failed: "кілт рәсімі сәтсіз болған референдум бойынша әрекет",
        invalid_decryption_share: "дәлелдемесі қате ашу үлесі", not_a_trustee: "сенімді тұлға емес адамның рәсім қадамы немесе ашу үлесі",
        too_few_shares: "ашу үлестері шектен аз болғанда жарияланған нәтиже", commitment_mismatch: "сенімді тұлғаның көпмүшесі міндеттемесіне сәйкес емес",
        ceremony_step_invalid: "кілт рәсімінің қате қадамы", ceremony_out_of_order: "кілт рәсімінің ретсіз қадамы",
      },
    },
  };
  let lang = (localStorage.getItem("dauys.lang") || (navigator.language || "en").slice(0, 2));
  if (!T[lang]) lang = "en";
  const t = (key, vars) => {
    let s = key.split(".").reduce((o, k) => (o ? o[k] : undefined), T[lang]);
    if (s === undefined) s = key.split(".").reduce((o, k) => (o ? o[k] : undefined), T.en) || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const date = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

  let state = { summary: null, failure: null, entries: 0, running: false };

  function applyLanguage() {
    document.documentElement.lang = lang;
    $("lang").value = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    if (state.entries || state.running) $("progress-text").textContent = t("progress", { n: state.entries.toLocaleString() });
    render();
  }

  // ---- workers --------------------------------------------------------
  const glue = $("glue").textContent;
  const workerSource = $("worker-src").textContent;
  const workerUrl = URL.createObjectURL(new Blob([glue, "\n", workerSource], { type: "text/javascript" }));
  const wasmBytes = Uint8Array.from(atob($("wasm").textContent.trim()), (c) => c.charCodeAt(0));
  const modulePromise = WebAssembly.compile(wasmBytes);
  // The same module in this thread, for the quick checks (receipts, a
  // mirror's entry bundles); the replay itself stays in the workers.
  const mainWasm = modulePromise.then((module) => {
    const bindings = new Function(glue + "\nreturn wasm_bindgen;")();
    bindings.initSync({ module });
    return bindings;
  });

  // ---- the transparency log (format 2) ------------------------------------
  // Checkpoints seen in this browser, per log verifier key: {size, root}.
  const SEEN = "dauys.seen";
  const seenStore = () => { try { return JSON.parse(localStorage.getItem(SEEN) || "{}"); } catch (e) { return {}; } };
  function remember(key, note) {
    const [, size, root] = note.split("\n");
    const all = seenStore();
    if (!all[key] || all[key].size < Number(size)) {
      all[key] = { size: Number(size), root };
      localStorage.setItem(SEEN, JSON.stringify(all));
    }
  }
  const checkpointSize = (note) => Number((note || "").split("\n")[1]) || 0;
  const trust = () => ({ witnesses: $("witnesses").value, quorum: Math.max(0, Number($("quorum").value) || 0) });
  // C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>].
  function tilePath(level, n, width) {
    const parts = [String(n % 1000).padStart(3, "0")];
    for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) parts.unshift("x" + String(n % 1000).padStart(3, "0"));
    return "tile/" + (level === null ? "entries" : level) + "/" + parts.join("/") + (width < 256 ? ".p/" + width : "");
  }
  async function fetchText(url) {
    try { const r = await fetch(url, { cache: "no-store" }); return r.ok ? await r.text() : null; } catch (e) { return null; }
  }
  async function fetchBytes(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(url + ": " + r.status);
    return new Uint8Array(await r.arrayBuffer());
  }
  const base64 = (bytes) => {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  // A static mirror's entries, bundle by bundle, as export lines.
  function mirrorStream(base, size) {
    let index = 0;
    return new ReadableStream({
      async pull(controller) {
        if (index * 256 >= size) { controller.close(); return; }
        const width = Math.min(256, size - index * 256);
        try {
          const bundle = await fetchBytes(base + "/" + tilePath(null, index, width));
          controller.enqueue((await mainWasm).bundleLines(bundle, index * 256, width));
          index++;
        } catch (e) { controller.error(e); }
      },
    });
  }

  function spawn(role, module) {
    return new Promise((resolve, reject) => {
      const w = new Worker(workerUrl);
      w.onmessage = (e) => { if (e.data.type === "ready") resolve(w); else reject(new Error(e.data.message)); };
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ type: "init", role, module });
    });
  }

  async function openSource() {
    const choice = document.querySelector("input[name=source]:checked").value;
    if (choice === "file") {
      const file = $("file").files[0];
      if (!file) throw new Error(t("chooseFile"));
      return { stream: file.stream(), total: file.size };
    }
    let base = location.origin;
    if (choice === "url") {
      if (!$("url").value) throw new Error(t("chooseUrl"));
      base = $("url").value.replace(/\/+$/, "");
    }
    // A format 2 node publishes a checkpoint, fetched before the export so
    // the export holds it; a static mirror has only the checkpoint and tiles.
    // The checkpoint's size is also the progress bar's hint.
    const note = await fetchText(base + "/tlog/checkpoint");
    if (note) {
      const response = await fetch(base + "/v1/export", { cache: "no-store" });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return { stream: response.body, total: 0, entries: checkpointSize(note), note };
    }
    const mirrored = await fetchText(base + "/checkpoint");
    if (mirrored && /^[^\n]+\n\d+\n[^\n]+\n\n/.test(mirrored)) {
      return { stream: mirrorStream(base, checkpointSize(mirrored)), total: 0, entries: checkpointSize(mirrored), note: mirrored };
    }
    // A format 1 node: its signed head (the export is streamed without a
    // length; the head gives the entry count for the progress bar).
    let entries = 0, headJson = null;
    try {
      headJson = await (await fetch(base + "/v1/head", { cache: "no-store" })).text();
      entries = JSON.parse(headJson).size || 0;
    } catch (e) { headJson = null; }
    const response = await fetch(base + "/v1/export", { cache: "no-store" });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    return { stream: response.body, total: Number(response.headers.get("content-length")) || 0, entries, headJson, fromLog: true };
  }

  async function verify() {
    if (state.running) return;
    if (state.coordinator) state.coordinator.terminate();
    state = { summary: null, failure: null, entries: 0, running: true, started: performance.now(), head: null, checkpoint: null };
    $("start").disabled = true;
    $("verdict").dataset.verdict = "running";
    delete $("verdict").dataset.position;
    $("verdict").textContent = t("running");
    render();
    const module = await modulePromise;
    const count = Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2));
    state.workers = count;
    const coordinator = await spawn("coordinator", module);
    const signers = await Promise.all(Array.from({ length: count }, () => spawn("signatures", module)));
    state.coordinator = coordinator;
    let source;
    try { source = await openSource(); } catch (e) { return fail(e.message, [coordinator, ...signers]); }
    state.expectedEntries = source.entries || 0;
    if (source.note) {
      // The roots to note during the replay: the checkpoint's size, and the
      // sizes of this log's checkpoints seen before in this browser.
      const origin = source.note.split("\n")[0];
      const sizes = [checkpointSize(source.note)];
      for (const [key, seen] of Object.entries(seenStore())) if (key.startsWith(origin + "+")) sizes.push(seen.size);
      coordinator.postMessage({ type: "want", sizes });
    }
    const reader = source.stream.getReader();
    const BATCH = 256 * 1024;
    const LINE_BYTES_MAX = 131584; // FORMAT.md section 6: longer is malformed_line
    let overlong = false;
    let pending = new Uint8Array(0);
    let nextId = 0, nextToCheck = 0, bytesRead = 0, free = signers.slice();
    let ballotKeys = null;
    const signed = new Map();
    const waiters = [];
    let done = false;
    const finished = new Promise((resolve) => {
      coordinator.onmessage = (e) => {
        const m = e.data;
        if (m.type === "progress") {
          state.entries = m.entries;
          // Election keys learned so far: workers check the next batches'
          // secret ballots against them.
          if (m.keys && m.keys.indexOf('"keys":{}') < 0) ballotKeys = m.keys;
          progress(bytesRead, source.total);
        }
        else if (m.type === "done" || m.type === "failed" || m.type === "error") { if (!done) { done = true; resolve(m); } }
        else if (m.type === "found") showFound(m.acts);
        else if (m.type === "headChecked") { state.head.ok = m.ok; render(); }
        else if (m.type === "checkpointChecked") {
          state.checkpoint = m.report;
          if (m.report.log_key) state.logKey = m.report.log_key;
          if (m.report.ok) remember(m.report.log_key, source.note);
          render();
        }
      };
    });
    for (const s of signers) s.onmessage = (e) => {
      const m = e.data;
      signed.set(m.id, m);
      free.push(s);
      while (signed.has(nextToCheck)) {
        const r = signed.get(nextToCheck); signed.delete(nextToCheck);
        coordinator.postMessage({ type: "check", id: r.id, batch: r.batch, verdicts: r.verdicts, ballots: r.ballots },
          [r.batch.buffer, r.verdicts.buffer, r.ballots.buffer]);
        nextToCheck++;
      }
      const w = waiters.shift(); if (w) w();
    };
    const send = async (batch) => {
      while (free.length === 0) await new Promise((r) => waiters.push(r));
      const worker = free.shift();
      worker.postMessage({ type: "sign", id: nextId++, batch, keys: ballotKeys }, [batch.buffer]);
    };
    try {
      // Chunks are gathered until a batch is full, then joined once and cut
      // at the last newline; the remainder starts the next batch.
      let chunks = [], gathered = 0;
      const join = () => {
        const all = new Uint8Array(gathered);
        let offset = 0;
        for (const c of chunks) { all.set(c, offset); offset += c.length; }
        chunks = []; gathered = 0;
        return all;
      };
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end || done) break; // done: the coordinator already found the first failure
        bytesRead += value.length;
        chunks.push(value); gathered += value.length;
        if (gathered < BATCH) continue;
        const all = join();
        const cut = all.lastIndexOf(10);
        if (cut < 0) {
          // No newline yet: past the line limit this cannot become a line.
          chunks = [all]; gathered = all.length;
          if (gathered > LINE_BYTES_MAX) { overlong = true; break; }
          continue;
        }
        await send(all.slice(0, cut + 1));
        if (cut + 1 < all.length) { chunks = [all.subarray(cut + 1)]; gathered = all.length - cut - 1; }
      }
      pending = join();
      const last = pending.lastIndexOf(10);
      if (last >= 0) { await send(pending.slice(0, last + 1)); pending = pending.slice(last + 1); }
    } catch (e) {
      return fail(e.message, [coordinator, ...signers]);
    }
    // Wait for every batch to reach the coordinator, then finish.
    while (nextToCheck < nextId && !done) await new Promise((r) => waiters.push(r));
    coordinator.postMessage({ type: "finish", partial: overlong ? LINE_BYTES_MAX + 1 : pending.length });
    const result = await finished;
    for (const s of signers) s.terminate();
    state.running = false;
    $("start").disabled = false;
    state.seconds = (performance.now() - state.started) / 1000;
    if (result.type === "done") {
      state.summary = result.summary; state.entries = result.entries;
      // The node's signed head, fetched before the export: check its
      // signature with the log key the verified genesis publishes.
      if (!source.note && result.summary.origin && source.fromLog) {
        // A format 2 log that withholds its checkpoint cannot be compared
        // with what this browser saw: not a pass.
        state.checkpoint = { ok: false, size: 0, cosigned_by: [], log_key: "", problem: t("cpMissing") };
      }
      if (source.note) {
        const { witnesses, quorum } = trust();
        coordinator.postMessage({ type: "checkpoint", note: source.note, witnesses, quorum, seen: JSON.stringify(seenStore()) });
      }
      if (source.headJson) {
        const head = JSON.parse(source.headJson);
        state.head = { size: head.size, matches: head.size === result.summary.size && head.head_hash === result.summary.head, ok: null };
        coordinator.postMessage({ type: "checkHead", json: source.headJson, key: result.summary.log_key });
      }
    }
    else if (result.type === "failed") { state.failure = result.failure; state.entries = result.entries; }
    else { state.error = result.message; }
    state.expectedEntries = 0;
    progress(bytesRead, bytesRead);
    render();
  }

  function fail(message, workers) {
    for (const w of workers) w.terminate();
    state.running = false;
    state.error = t("error", { m: message });
    $("start").disabled = false;
    render();
  }

  function progress(read, total) {
    const p = $("progress");
    if (state.expectedEntries) { p.max = state.expectedEntries; p.value = Math.min(state.entries, state.expectedEntries); }
    else if (total) { p.max = total; p.value = Math.min(read, total); } else p.removeAttribute("value");
    $("progress-text").textContent = t("progress", { n: state.entries.toLocaleString() });
  }

  // ---- drawing ----------------------------------------------------------
  function bar(parts, threshold, width) {
    const max = Math.max(threshold, parts.reduce((a, p) => a + p.value, 0), 1) * 1.1;
    const scale = (v) => (v / max) * (width - 10);
    let x = 0, rects = "";
    for (const p of parts) {
      const w = scale(p.value);
      rects += `<rect x="${x}" y="4" width="${w}" height="20" fill="${p.color}"><title>${esc(p.label)}: ${p.value}</title></rect>`;
      x += w;
    }
    const tx = scale(threshold);
    return `<svg viewBox="0 0 ${width} 44" role="img" aria-label="${esc(parts.map((p) => p.label + " " + p.value).join(", "))}, ${t("threshold")} ${threshold}">
      <rect x="0" y="4" width="${width - 10}" height="20" fill="#eef1f5"/>${rects}
      <line x1="${tx}" x2="${tx}" y1="0" y2="28" stroke="#1b1f24" stroke-width="2" stroke-dasharray="3 2"/>
      <text x="${Math.min(tx, width - 90)}" y="40">${t("threshold")} ${threshold}</text></svg>`;
  }

  function render() {
    const v = $("verdict");
    const facts = $("facts");
    if (state.error) { v.dataset.verdict = "error"; v.textContent = state.error; }
    if (state.failure) {
      const f = state.failure;
      v.dataset.verdict = "invalid";
      v.dataset.position = f.position;
      v.dataset.entries = state.entries;
      v.textContent = t("invalid", { p: f.position });
      facts.innerHTML = `<dt>${t("reason")}</dt><dd>${esc(t("reasons." + f.code) !== "reasons." + f.code ? t("reasons." + f.code) : f.code)} (${esc(f.code)})</dd>
        <dt>${t("entries")}</dt><dd>${state.entries}</dd><dt></dt><dd>${esc(f.message)}</dd>`;
    }
    const s = state.summary;
    if (!s) { for (const id of ["petitions", "referendums", "districts"]) $(id).innerHTML = ""; return; }
    v.dataset.verdict = "valid";
    v.dataset.entries = s.size;
    delete v.dataset.position;
    v.textContent = t("valid", { n: s.size.toLocaleString() });
    facts.innerHTML = `<dt>${t("jurisdiction")}</dt><dd>${esc(s.jurisdiction)}</dd>
      <dt>${t("entries")}</dt><dd>${s.size}</dd><dt>${t("head")}</dt><dd>${s.head}</dd>
      <dt>${t("ledger")}</dt><dd>${s.ledger_id}</dd><dt>${t("asOf")}</dt><dd>${date(s.time_ms)}</dd>
      <dt>${t("enrolled")}</dt><dd>${s.enrolled}</dd>` + headFact() + checkpointFact();
    if (state.checkpoint && !state.checkpoint.ok) {
      v.dataset.verdict = "invalid";
      v.textContent = t("cpInvalid");
    }
    $("petitions").innerHTML = s.petitions.length ? s.petitions.map((p) => {
      const cls = ["accepted", "in_referendum"].includes(p.status) ? "good" : ["lapsed", "rejected", "withdrawn", "ruling_overdue"].includes(p.status) ? "bad" : "";
      const ruling = p.ruling ? `<p class="meta">${t("council")}: <strong>${t(p.ruling.decision)}</strong> — ${esc(p.ruling.reasons)}</p>` : "";
      return `<div class="item"><h3>${esc(p.title)}</h3>
        <p><span class="badge ${cls}">${t("status." + p.status)}</span><span class="meta">#${p.position} · ${esc(p.subject)} · ${t("until")} ${date(p.signing_deadline_ms)}</span></p>
        ${bar([{ label: t("online"), value: p.supports_online, color: "#0b5cad" }, { label: t("paper"), value: p.supports_paper, color: "#b35c00" }], p.threshold, 520)}
        <p class="meta">${p.supports_online} ${t("online")} + ${p.supports_paper} ${t("paper")} / ${p.threshold}</p>${ruling}</div>`;
    }).join("") : `<p>${t("noneYet")}</p>`;
    $("referendums").innerHTML = s.referendums.length ? s.referendums.map((r) => {
      const valid = r.tally.reduce((a, b) => a + b, 0);
      const needed = Math.max(Math.floor((s.rules.approval_share_bp * valid) / 10000) + 1, Math.ceil((s.rules.yes_share_of_electorate_bp * r.electorate) / 10000));
      const max = Math.max(needed, ...r.tally, 1) * 1.1;
      const rows = r.options.map((o, i) => {
        const w = (r.tally[i] / max) * 380;
        return `<text x="0" y="${i * 30 + 18}">${esc(o).slice(0, 18)}</text><rect x="120" y="${i * 30 + 4}" width="${w}" height="20" fill="${i === 0 ? "#12663a" : "#6b7380"}"/><text x="${125 + w}" y="${i * 30 + 18}">${r.tally[i]}</text>`;
      }).join("");
      const nx = 120 + (needed / max) * 380;
      const sec = r.secret;
      const sealed = sec && !r.declared;
      const outcome = r.declared || (r.phase === "closed" && !sec ? r.computed_outcome : null);
      const list = (xs) => xs.length ? xs.map((i) => "#" + i).join(", ") : "—";
      const secretBlock = sec ? `<div class="secret"><p><strong>${t("secretBallot")}</strong>: ${sec.trustees.length} ${t("trusteesWord")}, ${t("anyDecrypt", { k: sec.threshold, n: sec.trustees.length })}.
        ${t("ceremonyWord")}: <strong>${t("ceremony." + sec.ceremony)}</strong>${sec.failed_accused !== null && sec.failed_accused !== undefined ? " — " + t("failedBy", { a: sec.failed_accused }) : ""}.</p>
        <p class="meta">${sec.ballots_counted} ${t("counted")} · ${sec.ballots_superseded} ${t("superseded")}</p>
        ${sec.decryption_shares.length ? `<p class="meta">${t("decryptedBy", { list: list(sec.decryption_shares), k: sec.threshold })}; ${t("absentTrustees", { list: list(sec.trustees.map((_, i) => i).filter((i) => !sec.decryption_shares.includes(i))) })}</p>` : ""}
        <p class="meta">${t("secretNote")}</p>${sealed ? `<p>${t("sealed")}</p>` : ""}</div>` : "";
      return `<div class="item"><h3>${esc(r.question)}</h3>
        <p><span class="badge ${outcome === "approved" ? "good" : outcome ? "bad" : ""}">${t("phase." + r.phase)}${outcome ? " · " + t(outcome) : ""}</span>
        <span class="meta">${date(r.opens_at_ms)} – ${date(r.closes_at_ms)} · ${sec ? sec.ballots_counted : valid} ${t("ballots")} / ${r.electorate} ${t("electorate")}</span></p>
        ${secretBlock}${sealed ? "" : `<svg viewBox="0 0 560 ${r.options.length * 30 + 22}" role="img" aria-label="${esc(r.options.map((o, i) => o + " " + r.tally[i]).join(", "))}; ${t("needed")} ${needed}">${rows}
        <line x1="${nx}" x2="${nx}" y1="0" y2="${r.options.length * 30}" stroke="#a4161a" stroke-width="2" stroke-dasharray="4 3"/>
        <text x="${Math.min(nx, 420)}" y="${r.options.length * 30 + 16}" fill="#a4161a">${t("needed")}: ${needed}</text></svg>`}</div>`;
    }).join("") : `<p>${t("noneYet")}</p>`;
    const maxE = Math.max(1, ...s.districts.map((d) => d.enrolled));
    $("districts").innerHTML = `<table><thead><tr><th>${t("district")}</th><th>${t("enrolled")}</th><th>${t("supports")}</th><th>${t("ballots")}</th></tr></thead><tbody>` +
      s.districts.map((d) => `<tr><td>${esc(d.name || t("none"))}</td><td class="num">${d.enrolled} <svg viewBox="0 0 100 10" style="width:6rem;display:inline-block" aria-hidden="true"><rect width="${(d.enrolled / maxE) * 100}" height="10" fill="#0b5cad"/></svg></td><td class="num">${d.supports}</td><td class="num">${d.ballots}</td></tr>`).join("") +
      "</tbody></table>";
  }

  function headFact() {
    const h = state.head;
    if (!h || h.ok === null) return "";
    let text;
    if (!h.ok) text = "✗ " + t("headBad");
    else if (h.matches) text = "✓ " + t("headOk");
    else text = "✓ " + t("headOther", { n: h.size, m: state.summary.size });
    return `<dt>${t("signedHead")}</dt><dd id="signed-head" data-ok="${h.ok}" data-matches="${h.matches}">${esc(text)}</dd>`;
  }

  function checkpointFact() {
    const c = state.checkpoint;
    if (!c) return "";
    let text;
    if (!c.ok) text = "✗ " + t("cpBad", { p: c.problem });
    else {
      const w = c.cosigned_by.length ? t("cpCosigned", { w: c.cosigned_by.join(", ") }) : "";
      text = "✓ " + t("cpOk", { w, n: c.size.toLocaleString() }) + (c.seen_before !== null && c.seen_before !== undefined ? t("cpSeen", { m: c.seen_before.toLocaleString() }) : t("cpFirst"));
    }
    return `<dt>${t("checkpoint")}</dt><dd id="checkpoint" data-ok="${c.ok}" data-size="${c.size}">${esc(text)}<br><code>${esc(c.log_key)}</code></dd>`;
  }

  // ---- check my receipt ---------------------------------------------------
  function currentBase() {
    const choice = document.querySelector("input[name=source]:checked").value;
    if (choice === "url" && $("url").value) return $("url").value.replace(/\/+$/, "");
    return location.protocol.startsWith("http") ? location.origin : null;
  }

  async function checkReceipt() {
    const out = $("receipt-result");
    const say = (cls, text) => { out.insertAdjacentHTML("beforeend", `<p class="${cls}">${esc(text)}</p>`); };
    out.innerHTML = "";
    let text = $("receipt-text").value.trim() ? $("receipt-text").value : "";
    const file = $("receipt-file").files[0];
    if (!text && file) text = await file.text();
    if (!text) return say("bad", t("rcNoText"));
    // The JSON a node answers an act with carries the receipt as `proof`.
    if (text.trim().startsWith("{")) { try { const json = JSON.parse(text); if (json.proof) text = json.proof; } catch (e) { /* not JSON */ } }
    out.dataset.state = "checking";
    say("", t("rcChecking"));
    const wasm = await mainWasm;
    const base = currentBase();
    let prefix = null, latest = null;
    if (base) {
      latest = await fetchText(base + "/tlog/checkpoint");
      prefix = latest ? base + "/tlog" : base;
      if (!latest) latest = await fetchText(base + "/checkpoint");
    }
    let key = $("log-key").value.trim() || state.logKey || "";
    out.innerHTML = "";
    try {
      if (!key && latest) {
        const bundle = await fetchBytes(prefix + "/" + tilePath(null, 0, Math.min(256, checkpointSize(latest))));
        key = wasm.genesisLogKey(bundle);
        say("", t("rcKeyFromNode", { k: key }));
      }
      const { witnesses, quorum } = trust();
      // The receipt alone: its own checkpoint need only be signed by the
      // log (a node answers at once); witnesses vouch for the latest.
      const report = JSON.parse(wasm.checkReceipt(text, key, witnesses, 0));
      if (!report.ok) { out.dataset.state = "bad"; return say("bad", t("rcBad", { p: report.problem })); }
      const w = report.cosigned_by.length ? t("cpCosigned", { w: report.cosigned_by.join(", ") }) : "";
      say("ok", "✓ " + t("rcOk", { i: report.index, kind: report.kind, time: date(report.time_ms), n: report.size.toLocaleString(), w }));
      if (!latest) { out.dataset.state = "offline"; return say("", t("rcOffline")); }
      const tiles = {};
      let fetched = 0;
      for (let round = 0; round < 8; round++) {
        const step = JSON.parse(wasm.consistencyStep(text, latest, key, witnesses, quorum, JSON.stringify(seenStore()), JSON.stringify(tiles)));
        if (step.missing.length) {
          await Promise.all(step.missing.map(async (path) => { tiles[path] = base64(await fetchBytes(prefix + "/" + path)); fetched++; }));
          continue;
        }
        if (!step.ok) { out.dataset.state = "bad"; return say("bad", "✗ " + t("rcStillBad", { p: step.problem })); }
        remember(key, latest);
        if (!step.covered) {
          // The receipt is newer than the checkpoint the log serves (which
          // waits for witnesses): one history, but not yet witnessed.
          out.dataset.state = "pending";
          out.dataset.tiles = fetched;
          return say("", "… " + t("rcPending", { n: step.latest_size.toLocaleString(), i: report.index }));
        }
        const cw = step.cosigned_by.length ? t("cpCosigned", { w: step.cosigned_by.join(", ") }) : "";
        out.dataset.state = "ok";
        out.dataset.tiles = fetched;
        return say("ok", "✓ " + t("rcStill", { n: step.latest_size.toLocaleString(), w: cw, t: fetched }));
      }
      throw new Error("tiles kept missing");
    } catch (e) {
      out.dataset.state = "bad";
      say("bad", t("rcBad", { p: e.message || String(e) }));
    }
  }

  function showFound(acts) {
    const s = state.summary;
    const about = (id) => {
      if (!id || !s) return "";
      const p = s.petitions.find((x) => x.id === id);
      if (p) return `${t("about")}: ${esc(p.title)} (${t("status." + p.status)})`;
      const r = s.referendums.find((x) => x.id === id);
      if (r) return `${t("about")}: ${esc(r.question)} (${t("phase." + r.phase)})`;
      return `${t("about")} <code>${id.slice(0, 16)}…</code>`;
    };
    $("found").innerHTML = acts.length ? "<ul>" + acts.map((a) =>
      `<li>${t("position")} #${a.position}: <strong>${esc(a.kind)}</strong> — ${a.counts ? t("counts") + " ✓" : t("supersededAct")}<br>${about(a.target)}<br><code>${a.hash}</code></li>`).join("") + "</ul>"
      : `<p>${t("noActs")}</p>`;
  }

  // ---- wiring -----------------------------------------------------------
  for (const radio of document.querySelectorAll("input[name=source]")) radio.addEventListener("change", () => {
    const choice = document.querySelector("input[name=source]:checked").value;
    $("url-row").hidden = choice !== "url";
    $("file-row").hidden = choice !== "file";
  });
  $("source-form").addEventListener("submit", (e) => { e.preventDefault(); verify(); });
  $("receipt-form").addEventListener("submit", (e) => { e.preventDefault(); checkReceipt(); });
  for (const [id, key] of [["witnesses", "dauys.witnesses"], ["quorum", "dauys.quorum"]]) {
    if (localStorage.getItem(key) !== null) $(id).value = localStorage.getItem(key);
    $(id).addEventListener("change", () => localStorage.setItem(key, $(id).value));
  }
  $("find-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.coordinator) state.coordinator.postMessage({ type: "find", query: $("find").value.trim().toLowerCase() });
  });
  $("lang").addEventListener("change", () => { lang = $("lang").value; localStorage.setItem("dauys.lang", lang); applyLanguage(); });
  // The benchmark's limit: raw signature checks per second with `workers`
  // signature workers busy at once on `batch` (whole export lines), no rules.
  // With `keys` (a secret ledger's election keys), each worker also checks
  // every secret ballot's proofs: the limit for a ledger of ballots.
  async function rawRate(batch, workers, millis, keys) {
    const module = await modulePromise;
    const pool = await Promise.all(Array.from({ length: workers }, () => spawn("signatures", module)));
    const lines = batch.split("\n").filter((l) => l).length;
    const bytes = new TextEncoder().encode(batch);
    const started = performance.now();
    let checked = 0;
    await Promise.all(pool.map((w) => new Promise((resolve) => {
      const again = () => {
        if (performance.now() - started > millis) return resolve();
        w.postMessage({ type: "sign", id: 0, batch: bytes.slice(), keys: keys || null });
      };
      w.onmessage = () => { checked += lines; again(); };
      again();
    })));
    const seconds = (performance.now() - started) / 1000;
    for (const w of pool) w.terminate();
    return checked / seconds;
  }
  window.dauys = { verify, checkReceipt, state: () => state, rawRate, workers: () => Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2)) };
  applyLanguage();
  if (location.protocol === "file:") {
    document.querySelector("input[value=file]").checked = true;
    $("file-row").hidden = false;
  } else if (location.hash === "#receipt") {
    // Only a receipt to check: no need to download and verify the log.
    $("receipt-h").scrollIntoView();
    $("receipt-file").focus();
  } else {
    verify();
  }
})();
