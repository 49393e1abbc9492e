//! Phishing: e-mail subjects (urgency, account suspension, invoices and payments, parcels,
//! password expiry, prizes, CEO fraud, fake shares and voicemails), short bodies, forged headers,
//! credential-harvesting URLs on lookalike domains, and mail-gateway verdict lines. The benign
//! mail (receipts, newsletters, invites, real notifications) lives in `benign_text`, built from
//! the same brands and services so that a brand name alone never decides.

use super::vocab::alnum_lower;
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "phish_subject", label: ThreatType::Phishing, weight: 45, make: phish_subject },
    Generator { name: "phish_body", label: ThreatType::Phishing, weight: 20, make: phish_body },
    Generator { name: "phish_headers", label: ThreatType::Phishing, weight: 8, make: phish_headers },
    Generator { name: "phish_url", label: ThreatType::Phishing, weight: 14, make: phish_url },
    Generator { name: "phish_gateway", label: ThreatType::Phishing, weight: 10, make: phish_gateway },
];

/// Brands phishing imitates (and benign mail really comes from).
pub const BRANDS: &[&str] = &[
    "Microsoft",
    "Microsoft 365",
    "Office 365",
    "Outlook",
    "OneDrive",
    "SharePoint",
    "Teams",
    "PayPal",
    "Apple",
    "iCloud",
    "Amazon",
    "Netflix",
    "DHL",
    "FedEx",
    "UPS",
    "USPS",
    "Royal Mail",
    "DPD",
    "DocuSign",
    "Dropbox",
    "Google",
    "Gmail",
    "Chase",
    "Wells Fargo",
    "Bank of America",
    "Citibank",
    "HSBC",
    "Barclays",
    "LinkedIn",
    "Facebook",
    "Instagram",
    "WhatsApp",
    "Adobe",
    "Zoom",
    "Coinbase",
    "Binance",
    "MetaMask",
    "Steam",
    "Spotify",
    "HMRC",
    "IRS",
    "WeTransfer",
    "Norton",
    "McAfee",
    "Geek Squad",
    "Walmart",
    "eBay",
    "AT&T",
    "Verizon",
    "Costco",
    "American Express",
    "Visa",
    "Mastercard",
    "Booking.com",
    "Airbnb",
    "Yahoo",
    "AOL",
    "Webmail",
    "IT Helpdesk",
    "Service Desk",
    "HR Department",
    "Payroll",
    "Intuit",
    "QuickBooks",
    "Xero",
    "Stripe",
    "Santander",
    "ING",
];

/// Lookalike spellings of brand names.
const LOOKALIKES: &[&str] = &[
    "Micros0ft",
    "Mircosoft",
    "Microsoft-365",
    "PayPaI",
    "Paypa1",
    "Pay-Pal",
    "Arnazon",
    "Amaz0n",
    "App1e",
    "Netf1ix",
    "NetfIix",
    "D-H-L",
    "FedEx-Delivery",
    "Docu-Sign",
    "DocuSlgn",
    "G00gle",
    "Linkedln",
    "0ffice365",
    "Outlook Web App",
    "Wells-Fargo",
    "Chase Bank Online",
    "Coin-base",
    "Rnicrosoft",
    "Micr0soft Teams",
];

const PHISH_TLDS: &[&str] = &[
    "com", "net", "xyz", "top", "info", "online", "site", "live", "app", "co", "support", "help", "click", "link",
    "ru", "cn", "io", "me", "cc", "icu",
];

/// Slots of the phishing grammars.
pub fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    let v = match name {
        "brand" => rng.pick(BRANDS).to_string(),
        "fake_brand" => {
            if rng.chance(30) {
                rng.pick(LOOKALIKES).to_string()
            } else {
                rng.pick(BRANDS).to_string()
            }
        }
        "phish_domain" => phish_domain(rng),
        "phish_link" => phish_link(rng),
        "amount" => {
            format!("{}{}.{:02}", rng.pick(&["$", "$", "€", "£", "USD "]), rng.range(9, 9_999), rng.range(0, 99))
        }
        "ref_no" => {
            format!("{}{}", rng.pick(&["#", "No. ", "REF-", "INV-", "ID:", "#", ""]), rng.range(10_000, 99_999_999))
        }
        "bank" => rng
            .pick(&[
                "Bank of America",
                "Chase",
                "Wells Fargo",
                "Citibank",
                "HSBC",
                "Barclays",
                "Lloyds",
                "NatWest",
                "Santander",
                "ING",
                "Deutsche Bank",
                "Capital One",
                "US Bank",
                "PNC",
                "TD Bank",
                "Washington Mutual",
                "Regions Bank",
            ])
            .to_string(),
        "company" => rng
            .pick(&[
                "Acme Corp",
                "Contoso",
                "Globex",
                "Initech",
                "Northwind Traders",
                "Umbrella Health",
                "Blue Peak Labs",
            ])
            .to_string(),
        "country_city" => rng
            .pick(&[
                "Lagos, Nigeria",
                "Moscow, Russia",
                "Beijing, China",
                "Kyiv, Ukraine",
                "São Paulo, Brazil",
                "Jakarta, Indonesia",
                "Hanoi, Vietnam",
                "Unknown location",
            ])
            .to_string(),
        "deadline" => rng
            .pick(&[
                "24 hours",
                "48 hours",
                "12 hours",
                "today",
                "within 24hrs",
                "by end of day",
                "immediately",
                "72 hours",
                "2 hours",
            ])
            .to_string(),
        _ => return None,
    };
    Some(v)
}

fn brand_token(rng: &mut Rng) -> String {
    let b = rng.pick(BRANDS);
    b.to_lowercase().replace([' ', '.', '&'], "")
}

/// A domain built to look like a brand's.
fn phish_domain(rng: &mut Rng) -> String {
    let brand = brand_token(rng);
    let tld = rng.pick(PHISH_TLDS);
    let word = rng.pick(&[
        "secure", "login", "verify", "account", "support", "update", "billing", "auth", "signin", "service", "help",
        "online", "portal", "id", "confirm", "recovery", "wallet", "track", "delivery", "invoice", "docs", "share",
        "mail",
    ]);
    match rng.below(8) {
        0 => format!("{brand}-{word}.{tld}"),
        1 => format!("{word}-{brand}.{tld}"),
        2 => format!("{brand}.{word}-{}.{tld}", alnum_lower(rng, 5, 5)),
        3 => format!("{}.{brand}-{word}.{tld}", rng.pick(&["www", "login", "account", "secure"])),
        4 => format!("{}{brand}.{tld}", rng.pick(&["my", "the", "e", "i", "web"])),
        5 => format!("{}.{}", brand.replace('o', "0").replace('l', "1"), tld),
        6 => format!("xn--{}-{}.com", brand.chars().take(5).collect::<String>(), alnum_lower(rng, 4, 4)),
        _ => format!("{brand}{word}{}.{tld}", rng.range(1, 99)),
    }
}

/// A credential-harvesting link.
fn phish_link(rng: &mut Rng) -> String {
    let domain = phish_domain(rng);
    let email = rng.fill("«email»");
    let path = rng.fill("«/login|/signin|/verify|/account/update|/secure/auth|/owa/|/o365/login.php|/wp-content/«alnum»/index.php|/«alnum»/|/billing|/confirm|/recovery|/auth/«alnum»|/track?id=«num»|/invoice/«num»|/docs/view»");
    match rng.below(10) {
        0..=3 => format!("http{}://{domain}{path}", rng.pick(&["", "s", "s"])),
        4 => format!("https://{domain}{path}?email={email}"),
        5 => format!("https://{domain}{path}#{email}"),
        6 => format!("http://{}{path}", rng.fill("«pub_ip»")),
        7 => format!("https://www.{}.com@{domain}{path}", brand_token(rng)),
        8 => rng.fill("https://«storage.googleapis.com/«alnum»|«alnum».web.app|«alnum».firebaseapp.com|«alnum».blob.core.windows.net/$web|sites.google.com/view/«alnum»|forms.gle/«alnum»|«alnum».ipfs.dweb.link|«alnum».r2.dev|«alnum».workers.dev|«alnum».ngrok-free.app|bit.ly/«alnum»|tinyurl.com/«alnum»|«alnum».weebly.com|«alnum».wixsite.com/«alnum»|docs.google.com/forms/d/e/«alnum»/viewform»/«index.html|login|»"),
        _ => format!("hxxps://{}{path}", domain.replace('.', "[.]")),
    }
}

const SUBJECTS: &[&str] = &[
    "«Urgent|URGENT|Important|Action Required|Action required|Immediate action required|Final notice|FINAL WARNING|Security Alert|Attention»: «Your|your» «fake_brand» account «has been|will be|was» «suspended|locked|limited|disabled|restricted|deactivated|put on hold»",
    "«fake_brand»: «verify|confirm|update|validate» your «account|identity|information|billing details|payment method» within «deadline»",
    "Your «fake_brand» password «expires|will expire» «today|in 24 hours|soon|in 2 days»«!|| - keep current password|, action needed»",
    "Unusual sign-in activity «on|for» your «fake_brand» account«| «ref_no»»",
    "«We|We've» «detected|noticed» «suspicious|unusual|unauthorized» «activity|login attempts|transactions» on your «fake_brand» account",
    "[«fake_brand»] «Payment|Your payment|Transaction» «declined|failed|on hold|was unsuccessful» - update your billing information",
    "Invoice «ref_no» «overdue|past due|attached|payment required|is ready» «- «amount»|»",
    "«Overdue|Outstanding|Unpaid» invoice «ref_no» - «immediate payment required|final reminder|please remit today»",
    "You have «(«n9»)|«n9»» «undelivered|pending|held|quarantined» «messages|emails|voicemails»",
    "«Your package|Your parcel|Shipment «ref_no»|Delivery attempt failed» «could not be delivered|is on hold|is waiting for you|requires confirmation» «- confirm your address|- pay «amount» customs fee|»",
    "«fake_brand»: «Shipment|Parcel|Package» «ref_no» on hold - confirm delivery «address|details»",
    "«Congratulations|CONGRATULATIONS|Congrats»«!|!!|,» You've «won|been selected for» «a «amount» gift card|an iPhone 15 Pro|«amount»|a free «fake_brand» reward»",
    "Claim your «reward|prize|refund|bonus» «now|today|before it expires»: «amount»",
    "«Final notice|Warning|Alert»: «mailbox|email» storage «full|limit reached|exceeded» - «upgrade now|verify to avoid deactivation|click to increase quota»",
    "«Re: |RE: |Fwd: |»«Wire transfer|Payment|Urgent payment|Quick request|Favor|Confidential request» «request|needed today|- are you available?|for vendor»",
    "Are you available? I need a quick favor«| - «fullname»|»",
    "«DocuSign|Docu-Sign|Adobe Sign|e-Signature»: «Please review and sign|Completed|Action required:» ««fullname» sent you|Contract|Agreement|Invoice|Payroll adjustment» «document|«ref_no»|»",
    "«fullname» «shared|has shared» \"«word»_«word».«pdf|xlsx|docx»\" with you",
    "«Your Microsoft 365|Your Office 365|Your Outlook|Your Zoom|Your Adobe» «license|subscription|account» «has expired|expires today|could not be renewed»",
    "«Security alert|Identity verification|Confirm your identity»: «fake_brand» «ref_no»",
    "«Tax refund|IRS refund|HMRC refund|Refund» notification«: you are eligible for «amount»|»",
    "«New voicemail|Voicemail received|Missed call» from «+1 («n99»«n9») «n99»«n9»-«num»|«fullname»|Unknown caller» «(«n9» sec)|- listen now|»",
    "«Netflix|Spotify|Disney+|Amazon Prime»: «update your payment details|your membership is on hold|we couldn't process your payment»",
    "«Apple ID|iCloud|Google account|Facebook account» «locked|disabled|suspended» for security reasons",
    "«HR|Human Resources|Payroll»: «Updated salary adjustment|2025 bonus allocation|Mandatory policy acknowledgment|Benefits enrollment deadline» «document|- review now|»",
    "«Crypto wallet|MetaMask|Coinbase|Binance» «verification required|account will be frozen|withdrawal pending» «- act now|»",
    "«Your|Re: Your» «order|purchase» «ref_no» «has been cancelled|could not be processed|refund pending» - «login to confirm|verify now»",
    "«Password reset|Reset your password|Password change» «request|required» «for «email»|»",
    "«Secure message|Encrypted message|Confidential document» from «fake_brand»«| - «ref_no»»",
    "«Your account|Account» «will be closed|is scheduled for deletion» «in «deadline»|»",
    "«Re: |»Outstanding payment - «fullname» «(CEO)|CFO|Director»",
    "«fake_brand» «support|security team»: «unusual login from «country_city»|sign-in from new device»",
    "«Online Banking|«bank»|«fake_brand»»«:| -| Alert:» «Account Verification|Please update your account records|Irregular Activity|Notification of Limited Account Access|Important Security Notice|Your account access has been limited|Unauthorized access attempt»",
    "«eBay|PayPal|«bank»»: «Please confirm your identity|Verify your identity to continue|Your account has been temporarily suspended|We need more information about you»",
    "«URGENT BUSINESS PROPOSAL|Inheritance fund transfer|Compensation payment of «amount»|Dear friend, I need your assistance|Lottery winner notification|Your ATM card worth «amount» is ready|Confidential business offer from «fullname»»",
    "«fullname» sent you a document «via OneDrive|via Dropbox|to review|- Secured PDF»", "«Scanned document|Scan» from «company» «scanner|MFP|copier» «ref_no»",
    "New fax received («n9» pages)", "You've received a new encrypted message from «fullname»", "View shared file: «word»_«word».pdf",
    "«Claim your airdrop|Your wallet has been compromised|Wallet sync required|Validate your seed phrase»«| now| - «deadline» left»",
    "«Deactivation request received|Email Account Termination Notice|Webmail Upgrade Required|Your mailbox will be blacklisted|Mail quota exceeded: verify now|Re-validate your mailbox»",
    "«IT Support|Helpdesk|Administrator»: «password reset required|MFA re-enrollment|your session has expired|update your VPN client»",
    "Re: «Invoice|Payment|Remittance|Purchase order» «ref_no»«| - please review| attached| confirmation»",
];

fn phish_subject(rng: &mut Rng) -> String {
    let mut s = rng.fill_one(SUBJECTS);
    match rng.below(12) {
        0 => s = s.to_uppercase(),
        1 => s = format!("[EXTERNAL] {s}"),
        2 => s = format!("{} {s}", rng.pick(&["⚠️", "❗", "🔒", "📦", "✅", "🎁", "**", "!!"])),
        3 => s = format!("Subject: {s}"),
        4 => s = format!("{s} {}", rng.fill("«ref_no»")),
        _ => {}
    }
    s
}

const BODY_OPENERS: &[&str] = &[
    "Dear «Customer|customer|User|Valued Member|Client|Account Holder|«first»|Sir/Madam»,",
    "Hello,",
    "Hi «first»,",
    "Attention «email»,",
    "Dear «fake_brand» user,",
    "Good day,",
];
const BODY_CLAIMS: &[&str] = &[
    "we detected unusual activity on your account and have temporarily «suspended|limited|locked» access.",
    "your mailbox has exceeded its storage limit and you will stop receiving messages.",
    "your password is set to expire in «deadline».",
    "we were unable to process your last payment of «amount».",
    "a package addressed to you could not be delivered due to an incomplete address.",
    "you have received a secure document that requires your signature.",
    "your account has been selected for a «refund|reward» of «amount».",
    "our records show an outstanding invoice «ref_no» of «amount».",
    "a sign-in attempt was blocked from an unrecognized device in «Moscow, Russia|Lagos, Nigeria|Beijing, China|São Paulo, Brazil».",
    "I need you to process a wire transfer of «amount» to a new vendor today. I'm in a meeting and can't talk.",
    "can you purchase «n9» «Apple|Google Play|Amazon|Steam» gift cards of «amount» each for a client? Keep this confidential.",
    "your «fake_brand» subscription could not be renewed.",
];
const BODY_ASKS: &[&str] = &[
    "To restore access, «click here|click the link below|verify your account|sign in» «: «phish_link»|at «phish_link»|»",
    "Please «confirm|verify|update» your «details|information|credentials|billing information» here: «phish_link»",
    "Failure to do so within «deadline» will result in «permanent suspension|account closure|loss of data|additional fees».",
    "Open the attached «invoice|document|form» «(«word»_«num».«html|htm|zip|iso|docm|xlsm|pdf.exe|one»)|» and «enable content|enable editing|log in» to view.",
    "Reply with your «username and password|full name, date of birth and card number|mobile number» to avoid interruption.",
    "Pay the «customs|redelivery|release» fee of «amount» at «phish_link»",
    "Scan the QR code below to «verify your identity|reactivate MFA|re-authenticate»",
    "Send me the codes as soon as you have them.",
];

fn phish_body(rng: &mut Rng) -> String {
    let mut parts = vec![rng.fill_one(BODY_OPENERS), rng.fill_one(BODY_CLAIMS)];
    let claim = parts[1].clone();
    if rng.chance(85) || claim.contains("wire transfer") {
        parts.push(rng.fill_one(BODY_ASKS));
    }
    if rng.chance(50) {
        parts.push(rng.fill_one(BODY_ASKS));
    }
    if rng.chance(60) {
        parts.push(rng.fill("«Thank you,|Regards,|Sincerely,|Thanks,|Best,» ««fake_brand» «Security|Support|Account|Billing» Team|The «fake_brand» Team|«fullname»|IT Helpdesk|«fullname», CEO»"));
    }
    let sep = rng.pick(&[" ", " ", "\n", " \n"]);
    parts.join(sep)
}

fn phish_headers(rng: &mut Rng) -> String {
    let brand = rng.fill("«fake_brand»");
    let domain = phish_domain(rng);
    let from = format!(
        "\"{brand} {}\" <{}@{domain}>",
        rng.pick(&["Security", "Support", "Billing", "Service", "Notification", "Account Team"]),
        rng.pick(&["no-reply", "security", "support", "service", "info", "alert", "billing"])
    );
    let subject = phish_subject(rng);
    match rng.below(4) {
        0 => format!("From: {from} Subject: {subject}"),
        1 => format!("From: {from}\nReply-To: {}\nSubject: {subject}", rng.fill("«alnum»«n99»@«gmail.com|outlook.com|proton.me|yandex.ru|mail.ru»")),
        2 => format!("Return-Path: <{}@{}> From: \"{brand}\" <{}@{}> Subject: {subject} Authentication-Results: spf=fail smtp.mailfrom={}; dkim=none; dmarc=fail action=quarantine header.from={}", rng.fill("«alnum»"), rng.fill("«evil_domain»"), rng.pick(&["service", "security", "noreply"]), rng.fill("«paypal.com|microsoft.com|apple.com|amazon.com|dhl.com|docusign.net»"), rng.fill("«evil_domain»"), rng.fill("«paypal.com|microsoft.com|apple.com»")),
        _ => format!("Received: from {} ([{}]) by mx.{} ; From: {from} ; Subject: {subject} ; X-Mailer: {}", rng.fill("«alnum».«evil_domain»"), rng.fill("«pub_ip»"), rng.fill("«domain»"), rng.fill_one(&["PHPMailer 6.«n9».«n9»", "Microsoft Outlook 16.0", "Leaf PHPMailer", "Gophish", "sendmail"])),
    }
}

fn phish_url(rng: &mut Rng) -> String {
    let link = phish_link(rng);
    match rng.below(5) {
        0..=2 => link,
        3 => format!(
            "{} {link}",
            rng.fill("«Click here to verify:|Sign in:|View document:|Track your parcel:|Login here|Confirm now:»")
        ),
        _ => {
            // The visible text often shows the real brand's address while the link goes elsewhere.
            let shown = if rng.chance(40) {
                format!("https://www.{}.com/login", brand_token(rng))
            } else {
                rng.fill("«Verify Now|View Invoice|Sign In|Track Package|Review Document|Click here»")
            };
            format!("<a href=\"{link}\">{shown}</a>")
        }
    }
}

fn phish_gateway(rng: &mut Rng) -> String {
    let sender =
        format!("{}@{}", rng.pick(&["no-reply", "security", "support", "billing", "service"]), phish_domain(rng));
    let rcpt = rng.fill("«email»");
    let subject = phish_subject(rng);
    match rng.below(5) {
        0 => format!("{} {} postfix/cleanup[{}]: {}: milter-reject: END-OF-MESSAGE from {}[{}]: 5.7.1 Phishing message detected; from=<{sender}> to=<{rcpt}>", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«pid»"), rng.fill("«hex8»").to_uppercase(), rng.fill("«evil_domain»"), rng.fill("«pub_ip»")),
        1 => format!("{} action=quarantine reason=phish score={} sender={sender} rcpt={rcpt} subject=\"{subject}\" url={}", rng.fill("«ts_iso»"), rng.range(80, 100), phish_link(rng)),
        2 => json!({"Timestamp": rng.fill("«ts_iso»"), "SenderFromAddress": sender, "RecipientEmailAddress": rcpt, "Subject": subject, "ThreatTypes": "Phish", "DetectionMethods": rng.pick(&["URL detonation", "Spoof external domain", "Impersonation brand", "File reputation"]), "DeliveryAction": rng.pick(&["Blocked", "Junked", "Delivered"]), "LatestDeliveryLocation": rng.pick(&["Quarantine", "Junk folder", "Inbox"])}).to_string(),
        3 => format!("X-Spam-Status: Yes, score={}.{} required=5.0 tests=FREEMAIL_FORGED_REPLYTO,HTML_MESSAGE,PHISH_URL,SPF_FAIL,URIBL_BLACK Subject: {subject}", rng.range(6, 30), rng.range(0, 9)),
        _ => format!("User reported phishing: \"{subject}\" from {sender} (reported by {rcpt})"),
    }
}
