// Every string the client shows, in English and Hindi, in one place; dates and numbers in
// Indian style through Intl (en-IN, hi-IN). A screen never writes user-facing text itself.

const STRINGS = {
  en: {
    app: "e-Office", skip: "Skip to content", language: "हिन्दी", languageName: "Switch to Hindi",
    signIn: "Sign in", signOut: "Sign out", email: "Government e-mail", password: "Password",
    postCode: "Post to act as (optional)", actAs: "Acting as", switchPost: "Switch post",
    signedOutMidway: "Your session ended. Sign in again: your unsaved work is kept and will be sent.",
    resent: "Your kept note was saved after signing in again.",
    nav: "Main", inbox: "Inbox", diarise: "Diarise", reports: "Reports", admin: "Administration",
    files: "Files", receipts: "Receipts", search: "Search", notifications: "Notifications",
    publicTitle: "Track your letter", trackingCode: "Tracking code", check: "Check status",
    status_received: "Received: your letter has been diarised.",
    status_under_process: "Under process: your letter is being dealt with.",
    status_disposed: "Disposed: action on your letter is complete.",
    paper: "Paper letter", scanned: "Scanned letter", emailLetter: "E-mail",
    kindOfLetter: "Kind of letter", subject: "Subject", senderName: "Sender's name",
    senderAddress: "Sender's address", senderOrganisation: "Sender's organisation", senderEmail: "Sender's e-mail",
    senderMobile: "Sender's mobile", letterNumber: "Letter number", receivedDate: "Received on", letterDate: "Letter dated",
    mode: "Mode", mode_post: "Post", mode_hand: "By hand", mode_email: "E-mail", mode_portal: "Portal", mode_fax: "Fax",
    category: "Category", letterLanguage: "Language of the letter", lang_hi: "Hindi", lang_en: "English", lang_other: "Other",
    grading: "Security grading", grading_normal: "Normal", grading_confidential: "Confidential", grading_secret: "Secret",
    grading_top_secret: "Top secret", vip: "VIP reference", remarks: "Remarks", scans: "Scanned pages (PDF, JPEG, PNG, TIFF)",
    emlFile: "The e-mail as a .eml file", preview: "Preview", uploading: "Uploading", saveDiarise: "Diarise",
    shortcutHint: "Ctrl+Enter diarises; Alt+1, Alt+2, Alt+3 choose the kind of letter.",
    diarised: "Diarised", diaryNumber: "Diary number", acknowledgement: "Acknowledgement",
    printAck: "Print acknowledgement", diariseNext: "Diarise the next letter", trackAt: "Status online at",
    markTo: "Mark to", markHint: "Type a designation or marking code, in Hindi or English; the first post chosen gets the letter, the others a copy.",
    pickPost: "Find a post", remove: "Remove", noPosts: "No post found", mark: "Mark", marked: "Marked to",
    priority: "Priority", priority_normal: "Normal", priority_urgent: "Urgent", priority_immediate: "Immediate",
    dueDate: "Due date", unread: "Unread only", overdue: "Overdue only", kind: "Kind", any: "Any",
    physical: "Paper", electronic: "Electronic", parked: "Parked only", nothing: "Nothing here.",
    from: "From", received: "Received", due: "Due", holder: "With", state: "State", opened: "Opened", new: "New",
    overdueTag: "Overdue", loadMore: "Load more", count: "{n} items", count_one: "{n} item",
    countMore: "The first {n} items; “Load more” below shows the rest", retry: "Try again",
    receipt: "Receipt", details: "Details", scan: "Scan", ocrText: "Text read from the scan", ocrQueued: "Waiting for its text to be read.", ocrReading: "Its text is being read.", ocrReadingPages: "Its text is being read: {read} of {pages} pages so far.",
    ocrFailed: "The text could not be read.", wentPast: "Went past {posts} (informed)", overFourLevels: "Sent. The file has now passed through {levels} levels towards a decision; the rule is at most four.", pastFourLevels: "Level {levels} towards a decision: past the four the rule allows", levelsToDecision: "Levels to a decision", overFourLevelsReport: "Files past four levels to a decision", countedFrom: "Counted from", movements: "Movements", sendTo: "Send", send: "Send",
    receivePaper: "The paper has reached me",
    paperNotReceived: "This came on paper. Say when the paper has reached you: until then it cannot be sent on, put in a file or closed.",
    pullBack: "Pull back", close: "Close", reopen: "Reopen", putInFile: "Open a file with it", openFile: "Open file",
    subjectHead: "Subject head", recordCategory: "Record category", createFile: "Create file",
    file: "File", notesheet: "Notesheet", correspondence: "Correspondence", drafts: "Drafts for approval",
    noteBody: "Note", saveYellow: "Save as yellow note (draft)", saveGreen: "Add green note (final)",
    yellowNote: "Yellow note (only you see it)", confirm: "Make it green", discard: "Discard", edit: "Edit", save: "Save",
    refs: "References", refPage: "Refer to page {n}", refNote: "Refer to note {n}", page: "Page", pages: "Pages",
    note: "Note", noteBy: "by {post}", puc: "PUC", fr: "FR {n}", draftTitle: "Title of the draft", draftBody: "Text of the draft",
    addDraft: "Add draft", newVersion: "Save a new version", version: "Version {n}", compare: "Compare versions",
    compareWith: "with", approve: "Approve this version", approved: "Approved by {post}", draftStatus_pending: "Awaiting approval",
    draftStatus_approved: "Approved", added: "added", removed: "removed",
    withdrawDraft: "Withdraw this draft", withdrawWhy: "Why it is withdrawn", withdrawnBy: "Withdrawn by {post}",
    linkedFiles: "Linked files and references", linkKind_link: "linked: moves with this file", linkKind_reference: "reference",
    unlink: "Unlink", unlinkFile: "Unlink file {number}", movesWith: "This file is linked to file {number} and moves with it; unlink it there to send or close it on its own.",
    movesAlong: "These linked files go with it: {files}",
    park: "Park", unpark: "Take up again", track: "Track", tracking: "Tracking", stays: "Stays",
    since: "Since", until: "Until", workingDays: "Working days", hours: "Hours", now: "now",
    limit: "Limit: {n} working days", isOverdue: "This file is overdue with its current holder.",
    pendency: "Pendency by post", overdueItems: "Overdue files", levels: "Levels per decided file",
    monthly: "Files per month", ranking: "Offices ranked by files handled", office: "Office", post: "Post",
    pending: "Pending", overdueCount: "Overdue", age: "Working days held", handled: "Handled", created: "Created",
    closed: "Closed", rank: "Rank", decided: "Decided", averageLevels: "Average levels", month: "Month", moved: "Moved",
    year: "Year", show: "Show", chart: "Chart", officeCode: "Office code",
    importOrg: "Import the organisation", importHint: "CSV files: offices, holidays, posts, users, postings.",
    initialPassword: "Initial password for new users (optional)", importRun: "Import",
    importProgress: "Import progress", importQueued: "The import waits to start…", importStage: "Importing {file}…",
    rowsOf: "{done} of {total} rows", importDone: "Import done.", importFailed: "The import failed; nothing was changed.",
    importResult: "Import report", createdN: "Created", changedN: "Changed", unchangedN: "Unchanged", rejected: "Rejected rows",
    fileName: "File", row: "Row", reason: "Reason", noRejects: "No row was rejected.",
    subjectHeads: "Subject heads", code: "Code", title: "Title", add: "Add", fileScheme: "File numbering scheme",
    prefix: "Prefix", pattern: "Pattern", officeSuffix: "Office suffix", categoryLimits: "Time limits by category",
    days: "Working days", set: "Set", saved: "Saved.", done: "Done.", loading: "Loading…",
    error: "Something went wrong", errorField: "Please correct this field", fieldRequired: "This field is required",
    tooShort: "Too short: at least {n} characters", tooLong: "Too long: at most {n} characters",
    tooMany: "Too many: at most {n}", notValid: "Not valid", futureDate: "Cannot be after today",
    afterReceived: "Cannot be after the date it was received",
    pastDate: "Cannot be before today", tooFarAhead: "Too far ahead: at most a year from today",
    notWorkingDay: "Not a working day of the recipient's office (a weekly day off or a holiday): choose another day",
    tooOld: "Too far back: at most {n} years ago", dateOrder: "Cannot be before the start date",
    invalidEmail: "Not a valid e-mail address, such as name@up.gov.in",
    invalidMobile: "Not a valid mobile number: 10 digits starting with 6, 7, 8 or 9 (+91 may come first)",
    invalidDate: "Not a valid date", invalidTime: "Not a valid time: hours and minutes, such as 18:30",
    invalidNumber: "Not a whole number", invalidUrl: "Not a valid web address",
    badFormat: "Not in the form this field takes", notAllowed: "Not one of the values this field takes",
    minValue: "Must be at least {n}", maxValue: "Must be at most {n}", aboveValue: "Must be more than {n}",
    belowValue: "Must be less than {n}", noSuchPost: "There is no such post",
    choosePost: "Choose a post from the list: type a few letters of it, then pick one",
    problem_invalid_input: "Some input is not valid.", problem_invalid_credentials: "Wrong e-mail or password.",
    problem_not_signed_in: "Please sign in.", problem_forbidden: "You are not allowed to do this.",
    problem_not_holder_of_post: "You do not hold that post today.", problem_not_current_holder: "Another post holds it now.",
    problem_not_found: "Not found.", problem_conflict: "This cannot be done now.",
    problem_too_large: "The upload is too large.", problem_account_locked: "Too many failed sign-ins; try again in 15 minutes.",
    problem_internal: "Our fault: please try again.", problem_unavailable: "The service is not answering; try again shortly.",
    problem_too_many_requests: "Too many requests; wait a little.",
    newFile: "New file", cancel: "Cancel", yes: "Yes", no: "No",
    st_open: "Open", st_in_file: "In a file", st_closed: "Closed", st_parked: "Parked",
    act_diarised: "Diarised", act_sent: "Sent", act_forwarded: "Forwarded", act_opened: "Opened", act_received: "Received",
    act_pulled_back: "Pulled back", act_put_in_file: "Put in a file", act_closed: "Closed", act_reopened: "Reopened",
    act_corrected: "Corrected", act_created: "Created", act_parked: "Parked", act_unparked: "Taken up again",
    searchWords: "Words, a diary or file number (Hindi or English)", suggestions: "Suggestions", results: "{n} found",
    facets: "Narrow down", kind_receipt: "Receipt", kind_file: "File", kind_note: "Note", kind_document: "Document",
    facet_office: "Office", facet_category: "Category", facet_kind: "Kind", facet_status: "State", facet_holder: "With",
    flagPuc: "Flag as the paper under consideration (PUC)", flagPucOf: "Flag {title} as the PUC",
    unflagPuc: "No longer the paper under consideration (remove the PUC flag)", unflagPucOf: "Remove the PUC flag from {title}",
    download: "Download", issue: "Sign and issue as a letter", addresseeName: "Addressee", addresseeAddress: "Address", addresseeEmail: "E-mail (to dispatch it)",
    issuedLetters: "Issued letters", signedBy: "signed by {name}", issueHint: "The letter is signed (PAdES), takes the next number of the dispatch register, and is dispatched to its addressees.",
    sent: "Sent", notOpened: "not opened yet", markAllRead: "Mark all read", unreadN: "{n} unread", newNotification: "New notification: {text}",
    preferences: "Notification preferences", prefKinds: "Tell me when", prefChannels: "By", prefDigest: "One e-mail a day listing everything, instead of one each",
    quietFrom: "Quiet hours from", quietTo: "Quiet hours until", quietHint: "Indian time; e-mail and SMS wait until they end. Give both, or neither.",
    prefLanguage: "Language of e-mail and SMS", channel_in_app: "In e-Office", channel_email: "E-mail", channel_sms: "SMS",
    nkind_arrived: "something arrives", nkind_returned: "something is returned", nkind_pulled_back: "something is pulled back",
    nkind_due: "something falls due", nkind_overdue: "something is overdue", nkind_escalated: "something is escalated to me",
    nkind_signed: "something is signed", nkind_issued: "a letter is issued", nkind_skipped: "a file goes past me to a higher level",
    subscriptions: "Portal subscriptions", subscription: "Portal subscription", subRegister: "Register a portal",
    subName: "Portal name", subDelivery: "Delivery", delivery_webhook: "Webhook (we POST to its URL)", delivery_amqp: "AMQP (a queue of its own)",
    subUrl: "Webhook URL", subUrlHint: "https:// only; the address must be public. Leave empty for AMQP.",
    subEventTypes: "Event types", subEventTypesHint: "Separated by spaces: eoffice.file.sent.v1, eoffice.file.* or *",
    subOffices: "Only these offices", subOfficesHint: "Office codes separated by spaces; empty: every office", subAllOffices: "every office",
    subContact: "Portal contact e-mail", subNoteText: "Remarks and note text may travel in the events",
    secretOnce: "The secret, shown only now: give it to the portal (webhook: it checks our signatures with it; AMQP: its password).",
    subActive: "Active", subStopped: "Stopped", subHealth: "Deliveries", subFailing: "Failing", subHealthy: "Working",
    subFailures: "Failures in a row", subLastError: "Last error", subOldSecretUntil: "The old secret also signs until", subQueue: "Queue",
    dstate_pending: "Pending", dstate_delivered: "Delivered", dstate_dead: "Dead letter",
    subLog: "Delivery log", subAt: "When", subEvent: "Event", subAnswer: "Answer", subError: "Error", subNoAnswer: "no answer",
    subOk: "(accepted)", subFailed: "(failed)", subDead: "Dead letters", subNoDead: "No dead letters.", subAttempts: "Attempts",
    subReplay: "Replay all dead letters", subReplayed: "Sent again: {n}.",
    signWithToken: "Sign with my USB token", signedVerify: "Signed: verify the signature", verifyLetter: "Verify {number}",
    signNoteTitle: "Sign note #{n} with your certificate", signIntro: "Your own DSC on its USB token signs the note. No browser plug-in: a small program on your PC does it, and your PIN is typed there, never here.",
    certificate: "Certificate", validUntil: "valid until", prepareSignature: "Prepare the signature",
    noCertificate: "You have no registered certificate yet: register your DSC's certificate first.",
    certRegister: "Register my certificate", certPem: "Certificate (PEM, or base64 of the DER)",
    myCertificates: "My certificates", certUnregister: "Unregister",
    certUnregisterConfirm: "Unregister this certificate? It will sign nothing more for you; what it signed stays valid.",
    certUnregisterHint: "Unregister a certificate whose token is lost, replaced or surrendered. Registering it again needs the token.",
    certHint: "Export it from the token's utility (or pkcs11-tool --read-object --type cert). It is checked: trusted CA, not revoked, in its dates, allowed to sign.",
    certProve: "The certificate is valid. A certificate is public, so to register it you prove that you hold its key: the signer program signs, on your token, a statement naming you and this certificate (no document).",
    certRegistered: "Your certificate is registered: you can sign with it now.", certProveAgain: "Upload the certificate again for a new request.",
    signSteps: "Now sign on your PC", signStep1: "Plug the USB token into your PC.", tokenLabel: "The token's label (shown by its utility)",
    signStep2: "In a terminal on your PC, run these two lines (the first gives the program a token that can only sign this, until {until}; reload this page for a fresh one):",
    signStep3: "The program shows what it signs (SHA-256 starting {sha}) and asks the token's PIN; it signs on the token and sends the signature here.",
    signStep4: "Do it before {until}; after that, prepare the signature again.",
    waitingSignature: "Waiting for the signature from your PC…", noteSigned: "Note #{n} is signed.", verifySignature: "Verify the signature",
    exitCodes: "If the program ends with an error, its exit status says why", exitCode: "Exit status", exitMeaning: "What it means, what to do",
    exit_0: "Signed. This page shows it within a few seconds.",
    exit_2: "It could not start or reach e-Office: check the command, the address and the token line (reload this page for a fresh token), then run it again.",
    exit_3: "The token is not connected (or its label is wrong): plug the USB token in, check its label, and run the command again.",
    exit_4: "Wrong PIN: run it again with the right PIN (too many wrong PINs lock the token).",
    exit_5: "The token lacks the certificate you chose, or its key does not match it: use the token that holds this certificate.",
    exit_6: "e-Office refused the signature; the program printed why (for example the request expired or the certificate is revoked).",
    sigNoteTitle: "Signature of note #{n}", sigLetterTitle: "Signature of letter {number}",
    sigValid: "The signature is valid: made with a trusted certificate, and nothing has changed since.",
    sigInvalid: "The signature does not hold: see below.", sigSigner: "Signed by", sigPost: "As", sigWhen: "Signed at (timestamp)",
    sigNoTime: "no trusted time", sigUnchanged: "Changed since signing?", sigNotChanged: "No: exactly as signed", sigChanged: "Yes: it changed after signing",
    sigTrusted: "Certificate trusted", sigRevoked: "Certificate revoked", sigChain: "Certificate chain (up to the root)", sigProblems: "Problems",
    sigIssuer: "Issued by", sigFingerprint: "Certificate SHA-256", sigContent: "SHA-256 of what was signed", sigLevel: "PAdES level",
    subRotate: "Rotate the secret", subOverlap: "Hours the old secret keeps signing", subOverlapHint: "Both secrets sign in the meantime, so the portal can switch without losing events.",
    datePlaceholder: "DD/MM/YYYY", dateHint: "Day/month/year, for example 15/08/2026",
    dateFormat: "Write the date as day/month/year, for example 15/08/2026", dateImpossible: "There is no such date as {date}",
    dateFrom: "From date", dateTo: "To date",
    scanList: "Documents of this receipt", scanOf: "Document {n} of {total}",
    emailMessage: "E-mail message", emailText: "Text of the message", emailFrom: "From", attachments: "Attachments",
    attachmentsListed: "{n} (listed above as documents of this receipt)", attachmentsListed_one: "1 (listed above as a document of this receipt)",
    none: "None", downloadMessage: "Download the message ({name})",
    signLetterTitle: "Sign and issue: {title}", signHow: "Sign with",
    key_office_token: "The office's key on the server (a dispatch stamp with your name)",
    key_officer_token: "My own DSC on its USB token (the signer program on my PC)",
    key_esign: "Aadhaar eSign (OTP or biometric at the eSign provider)",
    letterReserved: "Dispatch number {number} is reserved for this letter until {until}.", letterIssued: "Letter {number} is issued.",
    verifyIssued: "Verify the issued letter", backToFile: "Back to the file",
    giveUp: "Give up this signature", giveUpReason: "Why (written against the number in the dispatch register)",
    givenUp: "The signature was given up: number {number} is marked cancelled in the dispatch register.",
    esignSteps: "Sign with Aadhaar eSign", esignStep1: "You go to the eSign provider's page: there you authenticate with your Aadhaar (OTP or biometric) and agree to sign.",
    esignStep2: "The provider sends you back here, and the letter is issued at once.", esignGo: "Continue to Aadhaar eSign",
    esignNotSetUp: "Aadhaar eSign is not set up on this server: ask the system administrator, or give this signature up and sign another way.",
    esignRefused: "The eSign provider did not sign. You may try again.", esignChecking: "Handing in the eSign provider's answer…",
    sendFileHint: "Type a designation or marking code, in Hindi or English; the file goes to the one post chosen.",
    addDocument: "Add a document", docTitle: "Title of the document", docHow: "The document",
    docPaper: "On paper (its pages are counted here)", docUpload: "A file to upload (PDF, JPEG, PNG or TIFF)",
    docPages: "Number of pages", docFile: "The document (PDF, JPEG, PNG or TIFF)", addToCorrespondence: "Add to the correspondence",
    putInOpenFile: "Put it in a file already open", fileToPutIn: "File (one your post holds)", noFilesHeld: "Your post holds no open file.",
    putInThisFile: "Put it in this file", inFile: "In file", working: "Working…", signing: "Signing and issuing…",
  },
  hi: {
    app: "ई-ऑफ़िस", skip: "मुख्य सामग्री पर जाएँ", language: "English", languageName: "अंग्रेज़ी में देखें",
    signIn: "साइन इन करें", signOut: "साइन आउट", email: "सरकारी ई-मेल", password: "पासवर्ड",
    postCode: "किस पद के रूप में (वैकल्पिक)", actAs: "पद", switchPost: "पद बदलें",
    signedOutMidway: "आपका सत्र समाप्त हो गया। फिर से साइन इन करें: आपका न सहेजा गया काम सुरक्षित है और भेज दिया जाएगा।",
    resent: "फिर से साइन इन करने पर आपकी सुरक्षित टिप्पणी सहेज दी गई।",
    nav: "मुख्य", inbox: "इनबॉक्स", diarise: "डायरी करें", reports: "रिपोर्ट", admin: "प्रशासन",
    files: "फ़ाइलें", receipts: "प्राप्तियाँ", search: "खोज", notifications: "सूचनाएँ",
    publicTitle: "अपने पत्र की स्थिति जानें", trackingCode: "ट्रैकिंग कोड", check: "स्थिति देखें",
    status_received: "प्राप्त: आपका पत्र डायरी कर लिया गया है।",
    status_under_process: "प्रक्रियाधीन: आपके पत्र पर कार्यवाही चल रही है।",
    status_disposed: "निस्तारित: आपके पत्र पर कार्यवाही पूरी हो गई है।",
    paper: "काग़ज़ी पत्र", scanned: "स्कैन किया पत्र", emailLetter: "ई-मेल",
    kindOfLetter: "पत्र का प्रकार", subject: "विषय", senderName: "प्रेषक का नाम",
    senderAddress: "प्रेषक का पता", senderOrganisation: "प्रेषक की संस्था", senderEmail: "प्रेषक का ई-मेल",
    senderMobile: "प्रेषक का मोबाइल", letterNumber: "पत्रांक", receivedDate: "प्राप्ति तिथि", letterDate: "पत्र दिनांक",
    mode: "माध्यम", mode_post: "डाक", mode_hand: "दस्ती", mode_email: "ई-मेल", mode_portal: "पोर्टल", mode_fax: "फ़ैक्स",
    category: "श्रेणी", letterLanguage: "पत्र की भाषा", lang_hi: "हिन्दी", lang_en: "अंग्रेज़ी", lang_other: "अन्य",
    grading: "गोपनीयता श्रेणी", grading_normal: "सामान्य", grading_confidential: "गोपनीय", grading_secret: "गुप्त",
    grading_top_secret: "अति गुप्त", vip: "वीआईपी संदर्भ", remarks: "टिप्पणी", scans: "स्कैन किए पृष्ठ (PDF, JPEG, PNG, TIFF)",
    emlFile: "ई-मेल (.eml फ़ाइल)", preview: "पूर्वावलोकन", uploading: "अपलोड हो रहा है", saveDiarise: "डायरी करें",
    shortcutHint: "Ctrl+Enter से डायरी होगी; Alt+1, Alt+2, Alt+3 से पत्र का प्रकार चुनें।",
    diarised: "डायरी हो गया", diaryNumber: "डायरी संख्या", acknowledgement: "पावती",
    printAck: "पावती छापें", diariseNext: "अगला पत्र डायरी करें", trackAt: "ऑनलाइन स्थिति",
    markTo: "अंकित करें", markHint: "पदनाम या अंकन कोड हिन्दी या अंग्रेज़ी में लिखें; पहले चुने पद को पत्र मिलेगा, बाकी को प्रति।",
    pickPost: "पद खोजें", remove: "हटाएँ", noPosts: "कोई पद नहीं मिला", mark: "अंकित करें", marked: "अंकित किया गया",
    priority: "प्राथमिकता", priority_normal: "सामान्य", priority_urgent: "अत्यावश्यक", priority_immediate: "तत्काल",
    dueDate: "नियत तिथि", unread: "केवल अपठित", overdue: "केवल समय-सीमा पार", kind: "प्रकार", any: "सभी",
    physical: "काग़ज़ी", electronic: "इलेक्ट्रॉनिक", parked: "केवल रोकी गई", nothing: "यहाँ कुछ नहीं है।",
    from: "प्रेषक", received: "प्राप्त", due: "नियत", holder: "किसके पास", state: "स्थिति", opened: "खोला गया", new: "नया",
    overdueTag: "समय-सीमा पार", loadMore: "और दिखाएँ", count: "{n} प्रविष्टियाँ", count_one: "{n} प्रविष्टि",
    countMore: "पहली {n} प्रविष्टियाँ; शेष नीचे “और दिखाएँ” से", retry: "फिर प्रयास करें",
    receipt: "प्राप्ति", details: "विवरण", scan: "स्कैन", ocrText: "स्कैन से पढ़ा गया पाठ", ocrQueued: "पाठ पढ़े जाने की प्रतीक्षा में।", ocrReading: "पाठ पढ़ा जा रहा है।", ocrReadingPages: "पाठ पढ़ा जा रहा है: अब तक {pages} में से {read} पृष्ठ।",
    ocrFailed: "पाठ पढ़ा नहीं जा सका।", wentPast: "{posts} को लाँघकर (सूचित)", overFourLevels: "भेजी गई। फ़ाइल निर्णय की ओर अब {levels} स्तरों से गुज़र चुकी है; नियम अधिकतम चार स्तरों का है।", pastFourLevels: "निर्णय की ओर स्तर {levels}: नियम के चार स्तरों से आगे", levelsToDecision: "निर्णय तक स्तर", overFourLevelsReport: "निर्णय तक चार से अधिक स्तरों वाली फ़ाइलें", countedFrom: "गिनती यहाँ से", movements: "आवागमन", sendTo: "भेजें", send: "भेजें",
    receivePaper: "कागज़ मुझे मिल गया",
    paperNotReceived: "यह कागज़ पर आया है। कागज़ मिलने पर बताएँ: तब तक इसे आगे भेजा, फ़ाइल में रखा या बंद नहीं किया जा सकता।",
    pullBack: "वापस लें", close: "बंद करें", reopen: "फिर खोलें", putInFile: "इससे फ़ाइल खोलें", openFile: "फ़ाइल खोलें",
    subjectHead: "विषय शीर्ष", recordCategory: "अभिलेख श्रेणी", createFile: "फ़ाइल बनाएँ",
    file: "फ़ाइल", notesheet: "नोटशीट", correspondence: "पत्राचार", drafts: "अनुमोदन हेतु मसौदे",
    noteBody: "टिप्पणी", saveYellow: "पीली टिप्पणी (मसौदा) सहेजें", saveGreen: "हरी टिप्पणी (अंतिम) जोड़ें",
    yellowNote: "पीली टिप्पणी (केवल आप देखते हैं)", confirm: "हरी करें", discard: "हटाएँ", edit: "बदलें", save: "सहेजें",
    refs: "संदर्भ", refPage: "पृष्ठ {n} का संदर्भ", refNote: "टिप्पणी {n} का संदर्भ", page: "पृष्ठ", pages: "पृष्ठ",
    note: "टिप्पणी", noteBy: "{post} द्वारा", puc: "विचाराधीन पत्र", fr: "अनुवर्ती पत्र {n}", draftTitle: "मसौदे का शीर्षक", draftBody: "मसौदे का पाठ",
    addDraft: "मसौदा जोड़ें", newVersion: "नया संस्करण सहेजें", version: "संस्करण {n}", compare: "संस्करणों की तुलना",
    compareWith: "से", approve: "यह संस्करण अनुमोदित करें", approved: "{post} द्वारा अनुमोदित", draftStatus_pending: "अनुमोदन प्रतीक्षित",
    draftStatus_approved: "अनुमोदित", added: "जोड़ा गया", removed: "हटाया गया",
    withdrawDraft: "यह मसौदा वापस लें", withdrawWhy: "वापस लेने का कारण", withdrawnBy: "{post} द्वारा वापस लिया गया",
    linkedFiles: "संबद्ध फ़ाइलें और संदर्भ", linkKind_link: "संबद्ध: इस फ़ाइल के साथ जाती है", linkKind_reference: "संदर्भ",
    unlink: "संबद्धता हटाएँ", unlinkFile: "फ़ाइल {number} की संबद्धता हटाएँ", movesWith: "यह फ़ाइल फ़ाइल {number} से संबद्ध है और उसी के साथ जाती है; इसे अलग से भेजने या बंद करने के लिए वहाँ संबद्धता हटाएँ।",
    movesAlong: "ये संबद्ध फ़ाइलें इसके साथ जाएँगी: {files}",
    park: "रोकें", unpark: "फिर से लें", track: "ट्रैक करें", tracking: "ट्रैकिंग", stays: "ठहराव",
    since: "से", until: "तक", workingDays: "कार्य दिवस", hours: "घंटे", now: "अब तक",
    limit: "सीमा: {n} कार्य दिवस", isOverdue: "यह फ़ाइल अपने वर्तमान धारक के पास समय-सीमा पार कर चुकी है।",
    pendency: "पदवार लंबित", overdueItems: "समय-सीमा पार फ़ाइलें", levels: "निर्णीत फ़ाइल पर स्तर",
    monthly: "मासिक फ़ाइलें", ranking: "निपटाई फ़ाइलों के अनुसार कार्यालयों का क्रम", office: "कार्यालय", post: "पद",
    pending: "लंबित", overdueCount: "समय-सीमा पार", age: "रखे गए कार्य दिवस", handled: "निपटाई", created: "बनाई",
    closed: "बंद", rank: "क्रम", decided: "निर्णीत", averageLevels: "औसत स्तर", month: "माह", moved: "भेजी",
    year: "वर्ष", show: "दिखाएँ", chart: "चार्ट", officeCode: "कार्यालय कोड",
    importOrg: "संगठन आयात करें", importHint: "CSV फ़ाइलें: कार्यालय, अवकाश, पद, उपयोगकर्ता, तैनाती।",
    initialPassword: "नए उपयोगकर्ताओं का प्रारंभिक पासवर्ड (वैकल्पिक)", importRun: "आयात करें",
    importProgress: "आयात की प्रगति", importQueued: "आयात शुरू होने की प्रतीक्षा में है…", importStage: "{file} का आयात हो रहा है…",
    rowsOf: "{total} में से {done} पंक्तियाँ", importDone: "आयात पूरा हुआ।", importFailed: "आयात विफल रहा; कुछ भी नहीं बदला गया।",
    importResult: "आयात रिपोर्ट", createdN: "बनाए गए", changedN: "बदले गए", unchangedN: "अपरिवर्तित", rejected: "अस्वीकृत पंक्तियाँ",
    fileName: "फ़ाइल", row: "पंक्ति", reason: "कारण", noRejects: "कोई पंक्ति अस्वीकृत नहीं हुई।",
    subjectHeads: "विषय शीर्ष", code: "कोड", title: "शीर्षक", add: "जोड़ें", fileScheme: "फ़ाइल संख्या योजना",
    prefix: "उपसर्ग", pattern: "ढाँचा", officeSuffix: "कार्यालय प्रत्यय", categoryLimits: "श्रेणीवार समय-सीमा",
    days: "कार्य दिवस", set: "निर्धारित करें", saved: "सहेजा गया।", done: "हो गया।", loading: "लोड हो रहा है…",
    error: "कुछ गड़बड़ हुई", errorField: "कृपया यह प्रविष्टि ठीक करें", fieldRequired: "यह प्रविष्टि आवश्यक है",
    tooShort: "बहुत छोटा: कम से कम {n} अक्षर", tooLong: "बहुत लंबा: अधिकतम {n} अक्षर",
    tooMany: "बहुत अधिक: अधिकतम {n}", notValid: "मान्य नहीं", futureDate: "आज के बाद की तिथि नहीं हो सकती",
    afterReceived: "प्राप्ति की तिथि के बाद की नहीं हो सकती",
    pastDate: "आज से पहले की तिथि नहीं हो सकती", tooFarAhead: "बहुत आगे की तिथि: आज से अधिकतम एक वर्ष",
    notWorkingDay: "पाने वाले कार्यालय का कार्य दिवस नहीं (साप्ताहिक अवकाश या छुट्टी): कोई और दिन चुनें",
    tooOld: "बहुत पुरानी: अधिकतम {n} वर्ष पहले की", dateOrder: "आरंभ की तिथि से पहले की नहीं हो सकती",
    invalidEmail: "मान्य ई-मेल पता नहीं है, जैसे name@up.gov.in",
    invalidMobile: "मान्य मोबाइल नंबर नहीं है: 6, 7, 8 या 9 से शुरू होने वाले 10 अंक (आरंभ में +91 हो सकता है)",
    invalidDate: "मान्य तिथि नहीं है", invalidTime: "मान्य समय नहीं है: घंटे और मिनट, जैसे 18:30",
    invalidNumber: "पूर्ण संख्या नहीं है", invalidUrl: "मान्य वेब पता नहीं है",
    badFormat: "इस प्रविष्टि के अपेक्षित रूप में नहीं है", notAllowed: "इस प्रविष्टि के अनुमत मानों में से नहीं है",
    minValue: "कम से कम {n} होना चाहिए", maxValue: "अधिकतम {n} होना चाहिए", aboveValue: "{n} से अधिक होना चाहिए",
    belowValue: "{n} से कम होना चाहिए", noSuchPost: "ऐसा कोई पद नहीं है",
    choosePost: "सूची में से कोई पद चुनें: उसके कुछ अक्षर लिखें, फिर एक चुनें",
    problem_invalid_input: "कुछ प्रविष्टियाँ मान्य नहीं हैं।", problem_invalid_credentials: "ई-मेल या पासवर्ड ग़लत है।",
    problem_not_signed_in: "कृपया साइन इन करें।", problem_forbidden: "आपको यह करने की अनुमति नहीं है।",
    problem_not_holder_of_post: "आज यह पद आपके पास नहीं है।", problem_not_current_holder: "यह अब किसी अन्य पद के पास है।",
    problem_not_found: "नहीं मिला।", problem_conflict: "यह अभी नहीं किया जा सकता।",
    problem_too_large: "अपलोड बहुत बड़ा है।", problem_account_locked: "बहुत से असफल प्रयास; 15 मिनट बाद प्रयास करें।",
    problem_internal: "हमारी त्रुटि: कृपया फिर प्रयास करें।", problem_unavailable: "सेवा उत्तर नहीं दे रही; थोड़ी देर में प्रयास करें।",
    problem_too_many_requests: "बहुत अधिक अनुरोध; थोड़ा रुकें।",
    newFile: "नई फ़ाइल", cancel: "रद्द करें", yes: "हाँ", no: "नहीं",
    st_open: "खुली", st_in_file: "फ़ाइल में", st_closed: "बंद", st_parked: "रोकी गई",
    act_diarised: "डायरी की गई", act_sent: "भेजी गई", act_forwarded: "अग्रेषित", act_opened: "खोली गई", act_received: "प्राप्त की गई",
    act_pulled_back: "वापस ली गई", act_put_in_file: "फ़ाइल में रखी गई", act_closed: "बंद की गई", act_reopened: "फिर खोली गई",
    act_corrected: "संशोधित", act_created: "बनाई गई", act_parked: "रोकी गई", act_unparked: "फिर ली गई",
    searchWords: "शब्द, डायरी या फ़ाइल संख्या (हिन्दी या अंग्रेज़ी)", suggestions: "सुझाव", results: "{n} मिले",
    facets: "सीमित करें", kind_receipt: "प्राप्ति", kind_file: "फ़ाइल", kind_note: "टिप्पणी", kind_document: "दस्तावेज़",
    facet_office: "कार्यालय", facet_category: "श्रेणी", facet_kind: "प्रकार", facet_status: "स्थिति", facet_holder: "किसके पास",
    flagPuc: "विचाराधीन पत्र (PUC) चिह्नित करें", flagPucOf: "{title} को विचाराधीन पत्र चिह्नित करें",
    unflagPuc: "अब विचाराधीन पत्र नहीं (PUC चिह्न हटाएँ)", unflagPucOf: "{title} से विचाराधीन पत्र (PUC) का चिह्न हटाएँ",
    download: "डाउनलोड करें", issue: "हस्ताक्षर कर पत्र जारी करें", addresseeName: "प्राप्तकर्ता", addresseeAddress: "पता", addresseeEmail: "ई-मेल (भेजने हेतु)",
    issuedLetters: "जारी पत्र", signedBy: "{name} द्वारा हस्ताक्षरित", issueHint: "पत्र पर हस्ताक्षर (PAdES) होते हैं, उसे प्रेषण रजिस्टर की अगली संख्या मिलती है, और वह प्राप्तकर्ताओं को भेजा जाता है।",
    sent: "भेजे गए", notOpened: "अभी खोला नहीं", markAllRead: "सभी को पढ़ा हुआ करें", unreadN: "{n} अपठित", newNotification: "नई सूचना: {text}",
    preferences: "सूचना वरीयताएँ", prefKinds: "मुझे बताएँ जब", prefChannels: "माध्यम", prefDigest: "हर सूचना पर अलग ई-मेल के बजाय दिन में एक ई-मेल, सब की सूची सहित",
    quietFrom: "शांत समय आरंभ", quietTo: "शांत समय समाप्त", quietHint: "भारतीय समय; ई-मेल और SMS शांत समय समाप्त होने तक रुकते हैं। दोनों दें, या कोई नहीं।",
    prefLanguage: "ई-मेल और SMS की भाषा", channel_in_app: "ई-ऑफ़िस में", channel_email: "ई-मेल", channel_sms: "SMS",
    nkind_arrived: "कुछ प्राप्त हो", nkind_returned: "कुछ लौटाया जाए", nkind_pulled_back: "कुछ वापस लिया जाए",
    nkind_due: "किसी की नियत तिथि आए", nkind_overdue: "कुछ समय-सीमा पार करे", nkind_escalated: "कुछ मुझे अग्रेषित (एस्केलेट) हो",
    nkind_signed: "कुछ हस्ताक्षरित हो", nkind_issued: "कोई पत्र जारी हो", nkind_skipped: "कोई फ़ाइल मुझे छोड़कर ऊपर के स्तर पर भेजी जाए",
    subscriptions: "पोर्टल सदस्यताएँ", subscription: "पोर्टल सदस्यता", subRegister: "पोर्टल पंजीकृत करें",
    subName: "पोर्टल का नाम", subDelivery: "वितरण", delivery_webhook: "वेबहुक (उसके URL पर POST)", delivery_amqp: "AMQP (उसकी अपनी कतार)",
    subUrl: "वेबहुक URL", subUrlHint: "केवल https://; पता सार्वजनिक होना चाहिए। AMQP के लिए खाली छोड़ें।",
    subEventTypes: "घटना प्रकार", subEventTypesHint: "रिक्त स्थान से अलग: eoffice.file.sent.v1, eoffice.file.* या *",
    subOffices: "केवल ये कार्यालय", subOfficesHint: "कार्यालय कोड रिक्त स्थान से अलग; खाली: सभी कार्यालय", subAllOffices: "सभी कार्यालय",
    subContact: "पोर्टल का संपर्क ई-मेल", subNoteText: "अभियुक्ति और टिप्पणी का पाठ घटनाओं में भेजा जा सकता है",
    secretOnce: "गुप्त कुंजी, केवल अभी दिखाई गई: इसे पोर्टल को दें (वेबहुक: इससे वह हमारे हस्ताक्षर जाँचता है; AMQP: उसका पासवर्ड)।",
    subActive: "सक्रिय", subStopped: "बंद", subHealth: "वितरण स्थिति", subFailing: "विफल हो रहा है", subHealthy: "ठीक चल रहा है",
    subFailures: "लगातार विफलताएँ", subLastError: "अंतिम त्रुटि", subOldSecretUntil: "पुरानी कुंजी भी हस्ताक्षर करेगी, तक", subQueue: "कतार",
    dstate_pending: "लंबित", dstate_delivered: "पहुँचाए गए", dstate_dead: "मृत पत्र",
    subLog: "वितरण लॉग", subAt: "कब", subEvent: "घटना", subAnswer: "उत्तर", subError: "त्रुटि", subNoAnswer: "कोई उत्तर नहीं",
    subOk: "(स्वीकृत)", subFailed: "(विफल)", subDead: "मृत पत्र (डेड लेटर)", subNoDead: "कोई मृत पत्र नहीं।", subAttempts: "प्रयास",
    subReplay: "सभी मृत पत्र फिर भेजें", subReplayed: "फिर भेजे गए: {n}।",
    signWithToken: "मेरे USB टोकन से हस्ताक्षर करें", signedVerify: "हस्ताक्षरित: हस्ताक्षर सत्यापित करें", verifyLetter: "{number} सत्यापित करें",
    signNoteTitle: "टिप्पणी #{n} पर अपने प्रमाणपत्र से हस्ताक्षर", signIntro: "USB टोकन पर आपका अपना डिजिटल हस्ताक्षर प्रमाणपत्र (DSC) टिप्पणी पर हस्ताक्षर करता है। कोई ब्राउज़र प्लग-इन नहीं: आपके पीसी पर एक छोटा प्रोग्राम यह करता है, और PIN वहीं टाइप होता है, यहाँ कभी नहीं।",
    certificate: "प्रमाणपत्र", validUntil: "वैध तक", prepareSignature: "हस्ताक्षर तैयार करें",
    noCertificate: "आपका कोई प्रमाणपत्र अभी पंजीकृत नहीं है: पहले अपने DSC का प्रमाणपत्र पंजीकृत करें।",
    certRegister: "मेरा प्रमाणपत्र पंजीकृत करें", certPem: "प्रमाणपत्र (PEM, या DER का base64)",
    myCertificates: "मेरे प्रमाणपत्र", certUnregister: "पंजीकरण हटाएँ",
    certUnregisterConfirm: "इस प्रमाणपत्र का पंजीकरण हटाएँ? यह आपके लिए आगे कुछ हस्ताक्षर नहीं करेगा; इसके किए हस्ताक्षर वैध रहेंगे।",
    certUnregisterHint: "जिस प्रमाणपत्र का टोकन खो गया, बदला गया या लौटा दिया गया, उसका पंजीकरण हटाएँ। फिर से पंजीकरण के लिए टोकन चाहिए।",
    certHint: "इसे टोकन की उपयोगिता से निर्यात करें (या pkcs11-tool --read-object --type cert)। इसकी जाँच होती है: विश्वसनीय CA, निरस्त नहीं, वैधता अवधि में, हस्ताक्षर हेतु अनुमत।",
    certProve: "प्रमाणपत्र वैध है। प्रमाणपत्र सार्वजनिक होता है, इसलिए इसे पंजीकृत करने के लिए सिद्ध करें कि इसकी कुंजी आपके पास है: हस्ताक्षर प्रोग्राम आपके टोकन पर एक कथन पर हस्ताक्षर करता है जिसमें आपका और इस प्रमाणपत्र का नाम है (कोई दस्तावेज़ नहीं)।",
    certRegistered: "आपका प्रमाणपत्र पंजीकृत है: अब आप इससे हस्ताक्षर कर सकते हैं।", certProveAgain: "नए अनुरोध के लिए प्रमाणपत्र फिर से अपलोड करें।",
    signSteps: "अब अपने पीसी पर हस्ताक्षर करें", signStep1: "USB टोकन अपने पीसी में लगाएँ।", tokenLabel: "टोकन का लेबल (उसकी उपयोगिता में दिखता है)",
    signStep2: "अपने पीसी पर टर्मिनल में ये दो पंक्तियाँ चलाएँ (पहली प्रोग्राम को एक टोकन देती है जो केवल इसी पर, {until} तक, हस्ताक्षर कर सकता है; नए टोकन के लिए यह पृष्ठ फिर से लोड करें):",
    signStep3: "प्रोग्राम दिखाता है कि किस पर हस्ताक्षर हो रहे हैं (SHA-256 का आरंभ {sha}) और टोकन का PIN पूछता है; टोकन पर हस्ताक्षर कर यहाँ भेज देता है।",
    signStep4: "{until} से पहले करें; उसके बाद हस्ताक्षर फिर से तैयार करें।",
    waitingSignature: "आपके पीसी से हस्ताक्षर की प्रतीक्षा…", noteSigned: "टिप्पणी #{n} हस्ताक्षरित है।", verifySignature: "हस्ताक्षर सत्यापित करें",
    exitCodes: "यदि प्रोग्राम त्रुटि के साथ समाप्त हो, तो उसकी निकास स्थिति कारण बताती है", exitCode: "निकास स्थिति", exitMeaning: "अर्थ, और क्या करें",
    exit_0: "हस्ताक्षरित। यह पृष्ठ कुछ ही सेकंड में दिखा देगा।",
    exit_2: "प्रोग्राम शुरू नहीं हो सका या ई-ऑफ़िस तक नहीं पहुँचा: कमांड, पता और टोकन वाली पंक्ति जाँचें (नए टोकन के लिए यह पृष्ठ फिर से लोड करें), फिर चलाएँ।",
    exit_3: "टोकन जुड़ा नहीं है (या उसका लेबल ग़लत है): USB टोकन लगाएँ, लेबल जाँचें, और कमांड फिर चलाएँ।",
    exit_4: "ग़लत PIN: सही PIN के साथ फिर चलाएँ (कई बार ग़लत PIN से टोकन लॉक हो जाता है)।",
    exit_5: "टोकन में चुना गया प्रमाणपत्र नहीं है, या उसकी कुंजी मेल नहीं खाती: वह टोकन लगाएँ जिसमें यह प्रमाणपत्र है।",
    exit_6: "ई-ऑफ़िस ने हस्ताक्षर अस्वीकार किया; प्रोग्राम ने कारण छापा (जैसे अनुरोध की अवधि समाप्त या प्रमाणपत्र निरस्त)।",
    sigNoteTitle: "टिप्पणी #{n} के हस्ताक्षर", sigLetterTitle: "पत्र {number} के हस्ताक्षर",
    sigValid: "हस्ताक्षर वैध है: विश्वसनीय प्रमाणपत्र से किया गया, और तब से कुछ नहीं बदला।",
    sigInvalid: "हस्ताक्षर मान्य नहीं है: नीचे देखें।", sigSigner: "हस्ताक्षरकर्ता", sigPost: "पद", sigWhen: "हस्ताक्षर का समय (टाइमस्टैम्प)",
    sigNoTime: "कोई विश्वसनीय समय नहीं", sigUnchanged: "हस्ताक्षर के बाद बदला?", sigNotChanged: "नहीं: ठीक वैसा ही जैसा हस्ताक्षरित", sigChanged: "हाँ: हस्ताक्षर के बाद बदला गया",
    sigTrusted: "प्रमाणपत्र विश्वसनीय", sigRevoked: "प्रमाणपत्र निरस्त", sigChain: "प्रमाणपत्र शृंखला (मूल तक)", sigProblems: "समस्याएँ",
    sigIssuer: "जारीकर्ता", sigFingerprint: "प्रमाणपत्र SHA-256", sigContent: "हस्ताक्षरित सामग्री का SHA-256", sigLevel: "PAdES स्तर",
    subRotate: "गुप्त कुंजी बदलें", subOverlap: "पुरानी कुंजी कितने घंटे और हस्ताक्षर करे", subOverlapHint: "इस बीच दोनों कुंजियाँ हस्ताक्षर करती हैं, ताकि पोर्टल बिना घटनाएँ खोए बदल सके।",
    datePlaceholder: "दिन/माह/वर्ष", dateHint: "दिन/माह/वर्ष, जैसे 15/08/2026",
    dateFormat: "तिथि दिन/माह/वर्ष के रूप में लिखें, जैसे 15/08/2026", dateImpossible: "{date} जैसी कोई तिथि नहीं होती",
    dateFrom: "इस तिथि से", dateTo: "इस तिथि तक",
    scanList: "इस प्राप्ति के दस्तावेज़", scanOf: "दस्तावेज़ {n} / {total}",
    emailMessage: "ई-मेल संदेश", emailText: "संदेश का पाठ", emailFrom: "प्रेषक", attachments: "संलग्नक",
    attachmentsListed: "{n} (ऊपर इस प्राप्ति के दस्तावेज़ों में सूचीबद्ध)", attachmentsListed_one: "1 (ऊपर इस प्राप्ति के दस्तावेज़ों में सूचीबद्ध)",
    none: "कोई नहीं", downloadMessage: "संदेश डाउनलोड करें ({name})",
    signLetterTitle: "हस्ताक्षर कर जारी करें: {title}", signHow: "हस्ताक्षर किससे",
    key_office_token: "सर्वर पर कार्यालय की कुंजी (आपके नाम सहित प्रेषण मुहर)",
    key_officer_token: "USB टोकन पर मेरा अपना DSC (मेरे पीसी पर हस्ताक्षर प्रोग्राम)",
    key_esign: "आधार ई-साइन (ई-साइन प्रदाता पर OTP या बायोमेट्रिक)",
    letterReserved: "इस पत्र के लिए प्रेषण संख्या {number} {until} तक आरक्षित है।", letterIssued: "पत्र {number} जारी हो गया।",
    verifyIssued: "जारी पत्र सत्यापित करें", backToFile: "फ़ाइल पर लौटें",
    giveUp: "यह हस्ताक्षर छोड़ें", giveUpReason: "कारण (प्रेषण रजिस्टर में संख्या के सामने लिखा जाएगा)",
    givenUp: "हस्ताक्षर छोड़ दिया गया: संख्या {number} प्रेषण रजिस्टर में निरस्त अंकित है।",
    esignSteps: "आधार ई-साइन से हस्ताक्षर", esignStep1: "आप ई-साइन प्रदाता के पृष्ठ पर जाएँगे: वहाँ अपने आधार से (OTP या बायोमेट्रिक) प्रमाणीकरण कर हस्ताक्षर की सहमति दें।",
    esignStep2: "प्रदाता आपको यहीं लौटा देगा, और पत्र तुरंत जारी हो जाएगा।", esignGo: "आधार ई-साइन पर आगे बढ़ें",
    esignNotSetUp: "इस सर्वर पर आधार ई-साइन की व्यवस्था नहीं है: सिस्टम प्रशासक से पूछें, या यह हस्ताक्षर छोड़कर दूसरे तरीके से करें।",
    esignRefused: "ई-साइन प्रदाता ने हस्ताक्षर नहीं किया। आप फिर प्रयास कर सकते हैं।", esignChecking: "ई-साइन प्रदाता का उत्तर भेजा जा रहा है…",
    sendFileHint: "पदनाम या अंकन कोड हिन्दी या अंग्रेज़ी में लिखें; फ़ाइल चुने गए एक ही पद को जाएगी।",
    addDocument: "दस्तावेज़ जोड़ें", docTitle: "दस्तावेज़ का शीर्षक", docHow: "दस्तावेज़",
    docPaper: "कागज़ पर (पृष्ठ यहाँ गिने जाएँ)", docUpload: "अपलोड करने की फ़ाइल (PDF, JPEG, PNG या TIFF)",
    docPages: "पृष्ठों की संख्या", docFile: "दस्तावेज़ (PDF, JPEG, PNG या TIFF)", addToCorrespondence: "पत्राचार में जोड़ें",
    putInOpenFile: "पहले से खुली फ़ाइल में रखें", fileToPutIn: "फ़ाइल (जो आपके पद के पास है)", noFilesHeld: "आपके पद के पास कोई खुली फ़ाइल नहीं है।",
    putInThisFile: "इस फ़ाइल में रखें", inFile: "फ़ाइल में", working: "हो रहा है…", signing: "हस्ताक्षर कर जारी किया जा रहा है…",
  },
};

const LOCALES = { en: "en-IN", hi: "hi-IN" };
let current = localStorage.getItem("eoffice.lang") === "hi" ? "hi" : "en";

export function lang() { return current; }

export function setLang(code) {
  current = code === "hi" ? "hi" : "en";
  localStorage.setItem("eoffice.lang", current);
  document.documentElement.lang = current;
}

/** The string `key` in the current language, with {name} placeholders filled from `vars`;
 * `key_one` instead when there is one and `vars.n` is 1 ("1 item"). */
export function t(key, vars = {}) {
  if (vars.n === 1 && has(`${key}_one`)) key = `${key}_one`;
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => fmtValue(vars[name]));
}

/** A server's word (a state, an action) in the user's language: t(prefix_value), or the word itself. */
export function word(prefix, value) { return has(`${prefix}_${value}`) ? t(`${prefix}_${value}`) : value; }

/** Whether `key` exists (used for enumerations like mode_post). */
export function has(key) { return key in STRINGS.en; }

function fmtValue(v) { return typeof v === "number" ? fmtNum(v) : String(v ?? ""); }

/** 1,23,456 in Indian grouping. */
export function fmtNum(n, digits = 0) {
  return new Intl.NumberFormat(LOCALES[current], { maximumFractionDigits: digits }).format(n);
}

/** A count of unread notifications: "1,000+" when there are more than were counted. */
export function fmtUnread(n, more) { return `${fmtNum(n)}${more ? "+" : ""}`; }

/** A date (YYYY-MM-DD or ISO date-time) as DD/MM/YYYY in Indian style. */
export function fmtDate(value) {
  if (!value) return "";
  const d = value.length === 10 ? new Date(value + "T00:00:00+05:30") : new Date(value);
  return new Intl.DateTimeFormat(LOCALES[current], { day: "2-digit", month: "2-digit", year: "numeric",
    timeZone: "Asia/Kolkata" }).format(d);
}

/** A moment as DD/MM/YYYY, HH:MM in Indian time. */
export function fmtDateTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(LOCALES[current], { day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZone: "Asia/Kolkata" }).format(new Date(value));
}

/** Today in India, as YYYY-MM-DD (what the API takes). */
export function todayIST() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(new Date());
}

/** YYYY-MM-DD -> DD/MM/YYYY, as a date field shows it (whatever the language: Indian order). */
export function dateInput(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}

/**
 * What a person typed in a date field -> {iso: "YYYY-MM-DD"} (or {iso: ""} when empty), or
 * {error: "dateFormat" | "dateImpossible"} (keys of the messages). Day first, as written in
 * India: 5/3/2026, 05-03-2026 and 05.03.2026 are 5 March; Devanagari digits are read too; an
 * ISO date (pasted) is taken as it is. 31/02/2026 is no date.
 */
export function parseDate(text) {
  const typed = String(text || "").trim().replace(/[\u0966-\u096F]/g, (d) => String(d.charCodeAt(0) - 0x966));
  if (!typed) return { iso: "" };
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(typed);
  const [day, month, year] = m ? [m[1], m[2], m[3]].map(Number)
    : (m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(typed)) ? [m[3], m[2], m[1]].map(Number) : [];
  if (!m) return { error: "dateFormat" };
  const d = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return { error: "dateImpossible" };
  }
  return { iso: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}` };
}

export function monthName(n) {
  return new Intl.DateTimeFormat(LOCALES[current], { month: "short" }).format(new Date(2026, n - 1, 1));
}
