//! Benign content: form values and search terms (with the quotes, apostrophes, ampersands and
//! angle brackets real people type), ordinary web traffic in the same containers attacks use,
//! HTML of normal pages and templates, SQL in application and database logs, ordinary mail
//! (receipts, newsletters, invites, shipping notices, real security notifications), URLs and
//! prose.

use super::context::{web_path, web_value};
use super::encode;
use super::mail::BRANDS;
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "form_value", label: ThreatType::Benign, weight: 55, make: form_value },
    Generator { name: "web_traffic", label: ThreatType::Benign, weight: 60, make: web_traffic },
    Generator { name: "static_traffic", label: ThreatType::Benign, weight: 20, make: static_traffic },
    Generator { name: "html_fragment", label: ThreatType::Benign, weight: 30, make: html_fragment },
    Generator { name: "sql_log", label: ThreatType::Benign, weight: 30, make: sql_log },
    Generator { name: "mail_subject", label: ThreatType::Benign, weight: 40, make: mail_subject },
    Generator { name: "mail_body", label: ThreatType::Benign, weight: 14, make: mail_body },
    Generator { name: "mail_log", label: ThreatType::Benign, weight: 10, make: mail_log },
    Generator { name: "benign_url", label: ThreatType::Benign, weight: 14, make: benign_url },
    Generator { name: "prose", label: ThreatType::Benign, weight: 18, make: prose },
];

const STREETS: &[&str] = &[
    "Calle Mayor",
    "Avenida de la Constitución",
    "Calle del Prado",
    "Plaza España",
    "Main St",
    "Oak Avenue",
    "Baker Street",
    "Rue de Rivoli",
    "Hauptstraße",
    "Via Roma",
    "Elm Street",
    "Sunset Blvd",
    "King's Road",
    "Calle O'Donnell",
    "Rua Augusta",
    "Market St",
    "High Street",
    "Church Lane",
    "Maple Drive",
    "Station Road",
];
const CITIES: &[&str] = &[
    "Madrid",
    "Barcelona",
    "Sevilla",
    "Valencia",
    "London",
    "Paris",
    "Berlin",
    "München",
    "Roma",
    "New York",
    "San Francisco",
    "Chicago",
    "Toronto",
    "Sydney",
    "Dublin",
    "Lisboa",
    "Zürich",
    "Amsterdam",
    "Kraków",
    "Tokyo",
    "São Paulo",
    "Ciudad de México",
    "L'Hospitalet",
    "Coeur d'Alene",
    "St. John's",
    "Bogotá",
    "Málaga",
];
const SEARCH_TERMS: &[&str] = &[
    "«word» «word»",
    "how to «reset|change|recover» my password",
    "«first» «last»",
    "O'Brien",
    "O'Reilly books",
    "Rock & Roll hall of fame",
    "Tom & Jerry",
    "AT&T store near me",
    "Johnson & Johnson",
    "M&M's",
    "Ben & Jerry's",
    "c++ tutorial",
    "c# vs java",
    "\"«word» «word»\"",
    "«word» -«word»",
    "«word» OR «word»",
    "best «word» 2024",
    "5' 10\" in cm",
    "it's",
    "don't stop me now",
    "rock 'n' roll",
    "ma'am",
    "l'oréal",
    "d'artagnan",
    "y'all",
    "select a size",
    "select all",
    "union station",
    "union square cafe",
    "drop shipping",
    "drop box",
    "order by phone",
    "where to buy «word»",
    "1+1=2",
    "x < y",
    "a > b",
    "<3",
    "I <3 NY",
    "50% off",
    "100% cotton",
    "#hashtag",
    "price < $50",
    "size: M/L",
    "«word»@«domain»",
    "C:\\Users\\«user»\\Documents",
    "/home/«user»/notes.txt",
    "script writing course",
    "alert dialog android",
    "window cleaning",
    "iframe vs embed",
    "onload event javascript",
    "sleep apnea",
    "benchmark «word»",
    "sql tutorial for beginners",
    "insert into table example",
    "delete my account",
    "update drivers windows 11",
    "exec summary template",
    "admin assistant jobs",
    "root canal cost",
    "passwd file format",
    "cat /etc/hosts meaning",
    "what is ../ in a path",
    "javascript alert box example",
    "how to use ORDER BY in SQL",
    "«word»'s «word»",
    "Don't forget",
    "I'm «first»",
    "we're open",
    "can't login",
    "«n99»\" monitor",
    "2'6\" x 8'",
    "café au lait",
    "naïve",
    "crème brûlée",
    "Ærøskøbing",
    "北京",
    "東京 ラーメン",
    "Привет",
    "ñandú",
    "«city»",
    "«first» «last» -- CEO",
    "John -- the best",
    "hello; world",
    "yes|no",
    "one & two & three",
    "(555) 123-4567",
    "«n99»/«n31»/«year»",
    "«word»=«word»",
    "key=value",
    "a=1&b=2",
    "what does 1=1 mean in math",
    "or else",
];
const FORM_SHAPES: &[&str] = &[
    "«pseudo»",
    "«pseudo»",
    "«pseudo»«n9»",
    "«pseudo» «pseudo»",
    "«pseudo»«n99»«n9»",
    "«Pseudo» «Pseudo»",
    "«first»",
    "«last»",
    "«fullname»",
    "«email»",
    "«n99»«n99»«n99»«n9»«n9»",
    "«n99»«n99»«n99»«n99»«n9»«n9»«n9»«n9»",
    "«bignum»«bignum»",
    "«street», «n99»",
    "«street» «n99», «n9»º «A|B|C|D»",
    "«city»",
    "«n99»«n99»«n9»",
    "«word»«n99»",
    "«word»_«word»",
    "«Word»«n99»!",
    "«n31»/«n31»/«year»",
    "«date»",
    "+34 6«n99» «n99»«n9» «n99»«n9»",
    "(«n99»«n9») «n99»«n9»-«n99»«n9»«n9»",
    "«n99».«n99»",
    "«n9»,«n99» €",
    "$«n99».«n9»«n9»",
    "«search»",
    "«search»",
    "«search»",
    "«n9»",
    "«n99»",
    "«num»",
    "on",
    "off",
    "true",
    "false",
    "yes",
    "no",
    "Submit",
    "Enviar",
    "Buscar",
    "Aceptar",
    "Add to cart",
    "Login",
    "«hex8»«hex8»",
    "«uuid»",
    "«word»-«word»-«n99»",
    "ES«n99»«n99»«n99»«n99»«n99»«n99»«n99»«n99»«n99»«n99»«n99»",
    "«n9»«n9»«n9»«n9»-«n9»«n9»«n9»«n9»-«n9»«n9»«n9»«n9»-«n9»«n9»«n9»«n9»",
    "«first».«last»",
    "«user»",
    "Mr.",
    "Mrs.",
    "Dr.",
    "«n99» «Tablets|pcs|units|kg»",
    "«Red|Blue|Black|White|Green» / «S|M|L|XL»",
    "«word» «word» «word»",
    "«first» «last» <«email»>",
    "«street» «n99», «city»",
    "«city», «country»",
    "«country»",
];

/// Slots of the benign content grammars.
pub fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    let v = match name {
        "pseudo" => pseudo_word(rng),
        "Pseudo" => capitalize(&pseudo_word(rng)),
        "street" => rng.pick(STREETS).to_string(),
        "city" => rng.pick(CITIES).to_string(),
        "country" => rng
            .pick(&[
                "Spain",
                "España",
                "United States",
                "Germany",
                "France",
                "Italy",
                "United Kingdom",
                "Brazil",
                "Japan",
                "Canada",
                "Côte d'Ivoire",
                "Netherlands",
            ])
            .to_string(),
        "search" => rng.fill_one(SEARCH_TERMS),
        "Word" => capitalize(&rng.fill("«word»")),
        "real_brand" => rng.pick(BRANDS).to_string(),
        "b64_benign" => {
            encode::base64(rng.fill("««user»:«word»|{\"alg\":\"HS256\",\"typ\":\"JWT\"}|hello «word»»").as_bytes())
        }
        "alnum_id" => super::vocab::alnum_lower(rng, 11, 11),
        "company" => rng
            .pick(&[
                "Acme Corp",
                "Contoso",
                "Globex",
                "Initech",
                "Northwind Traders",
                "Umbrella Health",
                "Blue Peak Labs",
                "Greenleaf Ltd",
            ])
            .to_string(),
        "sentence" => rng.fill_one(SENTENCES),
        _ => return None,
    };
    Some(v)
}

/// `word` with its first letter in upper case.
fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// A pronounceable made-up word: user names, surnames, passwords and product names look like this.
fn pseudo_word(rng: &mut Rng) -> String {
    const ONSETS: &[&str] = &[
        "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "ch", "cl",
        "gr", "pl", "st", "tr", "sh", "qu", "ll", "ñ",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ia", "ie", "ue", "ou", "y"];
    const CODAS: &[&str] = &["", "", "", "n", "r", "s", "l", "t", "m", "z", "nd", "rt", "x"];
    let syllables = rng.range(1, 4);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(rng.pick(ONSETS));
        w.push_str(rng.pick(VOWELS));
        w.push_str(rng.pick(CODAS));
    }
    w
}

fn form_value(rng: &mut Rng) -> String {
    let v = rng.fill_one(FORM_SHAPES);
    match rng.below(10) {
        0 => encode::url_encode(&v, encode::UrlLevel::Reserved, rng),
        1 => encode::url_encode(&v, encode::UrlLevel::Spaces, rng),
        _ => v,
    }
}

fn web_traffic(rng: &mut Rng) -> String {
    let v = if rng.chance(70) { rng.fill_one(FORM_SHAPES) } else { rng.fill_one(SEARCH_TERMS) };
    web_value(rng, &v, None)
}

/// Requests with no parameters worth the name: pages, assets, APIs, health checks, bots.
fn static_traffic(rng: &mut Rng) -> String {
    let path = rng.fill("««asset»|«asset»|«webpath»|/api/v«n9»/«word»s/«num»|/«word»/«word»-«word»-«num»|/blog/«year»/«n31»/«word»-«word»|/docs/«word»/«word».html|/health|/healthz|/metrics|/favicon.ico|/robots.txt|/static/«word».css|/images/«word»/«num».jpg|/u/«user»|/@«user»|/«word»/«word».php|/index.html|/en-us/«word»|/products/«num»/reviews»");
    web_path(rng, &path)
}

const HTML: &[&str] = &[
    "<div class=\"«card|container|row|col-md-«n9»|alert alert-info|navbar|footer|hero»\">«sentence»</div>",
    "<p>«sentence»</p>", "<p>«sentence» <strong>«word»</strong> «sentence»</p>", "<h«n9»>«Word» «word»</h«n9»>",
    "<a href=\"/«word»/«word»\">«Read more|Learn more|Details|«Word»»</a>", "<a href=\"https://«fqdn»/«word»\" target=\"_blank\" rel=\"noopener\">«Word»</a>",
    "<img src=\"/static/img/«word».«png|jpg|svg|webp»\" alt=\"«Word» «word»\" width=\"«n99»0\" height=\"«n99»0\" loading=\"lazy\">",
    "<script src=\"/static/js/«app|main|vendor|bundle».«hex8».js\" defer></script>",
    "<script src=\"https://«cdn.jsdelivr.net/npm/bootstrap@5.3.«n9»/dist/js/bootstrap.bundle.min.js|code.jquery.com/jquery-3.7.1.min.js|www.googletagmanager.com/gtag/js?id=G-«hex8»»\"></script>",
    "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date());</script>",
    "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"«Organization|Product|Article»\",\"name\":\"«Word»\"}</script>",
    "<button type=\"button\" class=\"btn btn-«primary|secondary|link»\" onclick=\"«toggleMenu()|openModal('«word»')|history.back()|window.print()|addToCart(«num»)»\">«Menu|Open|Back|Print|Add to cart»</button>",
    "<body onload=\"«init()|startClock()|document.forms[0].elements[0].focus()»\">", "<body class=\"«home|page-«word»|dark»\">",
    "<form action=\"/«search|login|subscribe|contact»\" method=\"«get|post»\"><input type=\"«text|email|search»\" name=\"«q|email|name»\" placeholder=\"«Search|Your e-mail|Name»\" required><button type=\"submit\">«Go|Send|Subscribe»</button></form>",
    "<input type=\"«text|hidden|checkbox|number»\" name=\"«word»\" value=\"«num»\">", "<select name=\"«size|country|qty»\"><option value=\"«n9»\">«Word»</option></select>",
    "<iframe src=\"https://www.youtube.com/embed/«alnum_id»\" width=\"560\" height=\"315\" frameborder=\"0\" allowfullscreen></iframe>",
    "<svg width=\"24\" height=\"24\" viewBox=\"0 0 24 24\" fill=\"none\"><path d=\"M«n9» «n9»h«n99»v«n9»H«n9»z\" stroke=\"currentColor\"/></svg>",
    "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", "<link rel=\"stylesheet\" href=\"/css/«word».css\">",
    "<table class=\"table\"><tr><th>«Word»</th><th>«Word»</th></tr><tr><td>«num»</td><td>«word»</td></tr></table>",
    "<ul><li>«Word»</li><li>«Word»</li><li>«Word»</li></ul>", "<span style=\"color:#«hex4»«n9»«n9»\">«word»</span>", "<br>", "<hr/>",
    "<!-- «TODO: «word»|begin «word» section|end of header|Google Tag Manager (noscript)» -->",
    "<blockquote>«sentence»</blockquote>", "<code>«word»()</code> returns «word»", "<pre>$ «package» --version</pre>",
    "<textarea name=\"comment\" rows=\"5\">«sentence»</textarea>", "<label for=\"«word»\">«Word»:</label>",
    "<div id=\"app\" data-user=\"«user»\" data-page=\"«n9»\"></div>", "<noscript>You need to enable JavaScript to run this app.</noscript>",
    "<video controls src=\"/media/«word».mp4\" poster=\"/media/«word».jpg\"></video>", "<audio controls src=\"/media/«word».mp3\"></audio>",
    "**«Word»** «sentence»", "[«Word»](https://«fqdn»/«word»)", "## «Word» «word»", "> «sentence»", "[b]«word»[/b] [url=https://«fqdn»]«word»[/url]",
    "&lt;div class=&quot;«word»&quot;&gt;«word»&lt;/div&gt;", "Use &lt;br&gt; for line breaks and &amp;nbsp; for spaces.",
    "<a href=\"mailto:«email»\">«email»</a>", "<a href=\"tel:+1«n99»«n99»«n99»«n99»«n99»\">Call us</a>",
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk«alnum_id»AAAAABJRU5ErkJggg==\" alt=\"\">",
];

fn html_fragment(rng: &mut Rng) -> String {
    let n = if rng.chance(25) { 2 } else { 1 };
    let html: Vec<String> = (0..n).map(|_| rng.fill_one(HTML)).collect();
    let html = html.join(if rng.chance(50) { "" } else { "\n" });
    match rng.below(8) {
        0 => json!({"post_id": rng.range(1, 99_999), "body": html, "author": rng.fill("«user»")}).to_string(),
        1 => web_value(rng, &html, None),
        // A page that shows markup as text (docs, code reviews) escapes it.
        2 => encode::html_escape(&html),
        _ => html,
    }
}

const SQL_STATEMENTS: &[&str] = &[
    "SELECT «*|id, name, email|u.id, u.email, p.title|COUNT(*)|id, created_at» FROM «users|orders|products|posts|invoices|customers» «u |»WHERE «id|user_id|customer_id|order_id» = «num»",
    "SELECT * FROM «products|articles» WHERE «name|title» LIKE '%«word»%' ORDER BY «created_at|price|name» «ASC|DESC» LIMIT «n99» OFFSET «n99»",
    "SELECT id, name FROM customers WHERE last_name = '«last»'",
    "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > '«date»'",
    "SELECT status, COUNT(*) FROM «orders|tickets|jobs» GROUP BY status HAVING COUNT(*) > «n9»",
    "SELECT «region|month», SUM(amount) FROM sales_«year» GROUP BY 1 UNION ALL SELECT «region|month», SUM(amount) FROM sales_archive GROUP BY 1",
    "SELECT * FROM «sessions|tokens» WHERE «token|session_id» = $1 AND expires_at > now()",
    "INSERT INTO «orders|events|audit_log|comments» («user_id, total, status|type, payload|actor, action|post_id, body») VALUES (««num», «n99».«n99», 'pending'|$1, $2, $3»)",
    "INSERT INTO comments (post_id, author, body) VALUES («num», '«first»', '«sentence»')",
    "UPDATE «users|accounts» SET «last_login|updated_at» = NOW() WHERE id = «num»",
    "UPDATE orders SET status = '«shipped|paid|cancelled»' WHERE id IN («num», «num»)",
    "DELETE FROM «sessions|cache_entries|password_resets» WHERE «expires_at|created_at» < NOW() - INTERVAL '«n9» «day|days|hour»'",
    "CREATE TABLE IF NOT EXISTS «word»_«word» (id SERIAL PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMPTZ DEFAULT now())",
    "CREATE INDEX CONCURRENTLY idx_«word»_«word» ON «word»s («word»_id)", "ALTER TABLE «users|orders» ADD COLUMN «word» «VARCHAR(255)|INTEGER|BOOLEAN DEFAULT false»",
    "DROP TABLE IF EXISTS tmp_«word»_import", "TRUNCATE TABLE staging_«word»", "BEGIN", "COMMIT", "ROLLBACK", "VACUUM ANALYZE «word»s",
    "SELECT TOP 10 * FROM dbo.«Orders|Customers» ORDER BY «OrderDate|Id» DESC", "EXEC dbo.usp_Get«Word»ById @Id = «num»",
    "SELECT id FROM users WHERE email = '«email»' AND deleted_at IS NULL",
];

/// Statements that look like an attacker's probes when alone (version, schema, grants), so they
/// only appear inside the logs that run them routinely.
const SQL_ADMIN: &[&str] = &[
    "SELECT pg_size_pretty(pg_database_size('«word»'))",
    "SHOW VARIABLES LIKE 'max_connections'",
    "EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = «num»",
    "SELECT version()",
    "SELECT 1",
    "SET search_path TO public",
    "SELECT now()",
    "SELECT current_database()",
    "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name",
    "-- migration «year»«n31»«n31»_add_«word»_to_«word»s",
    "SELECT * FROM information_schema.columns WHERE table_name = '«word»s'",
    "GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst",
    "SELECT datname FROM pg_database",
    "SHOW TABLES",
    "SELECT @@SERVERNAME",
];

fn sql_log(rng: &mut Rng) -> String {
    let admin = rng.chance(20);
    let stmt = if admin { rng.fill_one(SQL_ADMIN) } else { rng.fill_one(SQL_STATEMENTS) };
    match rng.below(9) {
        0 if !admin => stmt,
        1 => format!("{} UTC [{}] LOG:  duration: {}.{:03} ms  statement: {stmt}", rng.fill("«ts_sql».«n99»«n9»"), rng.fill("«pid»"), rng.range(0, 900), rng.range(0, 999)),
        2 => format!("{}\t{} Query\t{stmt}", rng.fill("«ts_iso»"), rng.range(3, 9000)),
        3 => format!("# Query_time: {}.{:06}  Lock_time: 0.0000{:02} Rows_sent: {}  Rows_examined: {} SET timestamp={}; {stmt};", rng.range(1, 12), rng.range(0, 999_999), rng.range(0, 99), rng.range(0, 500), rng.range(0, 900_000), rng.fill("«ts_epoch»")),
        4 => format!("  {} Load ({}.{}ms)  {stmt}", rng.fill("«Word»"), rng.range(0, 90), rng.range(0, 9)),
        5 => format!("Hibernate: {}", stmt.to_lowercase()),
        6 => format!("({}.{:03}) {stmt}; args=({},)", rng.range(0, 2), rng.range(0, 999), rng.range(1, 9999)),
        7 => json!({"ts": rng.fill("«ts_iso»"), "level": "debug", "msg": "query", "sql": stmt, "duration_ms": rng.range(0, 400), "rows": rng.range(0, 500)}).to_string(),
        _ => format!("{} DEBUG [{}] o.s.jdbc.core.JdbcTemplate - Executing prepared SQL statement [{stmt}]", rng.fill("«ts_java»"), rng.fill("«http-nio-8080-exec-«n9»|main|scheduling-1»")),
    }
}

const MAIL_SUBJECTS: &[&str] = &[
    "«Re: |RE: |Fwd: |FW: |»«Q«n9»|«year»|Weekly|Monthly» «budget|roadmap|planning|review|report|numbers|OKRs» «meeting|review|draft|update|»",
    "«Re: |»Lunch on «Friday|Thursday|Monday»?", "«Re: |»Quick question about «the «word» «report|deck|release»|your «word» PR»",
    "Invitation: «Weekly sync|1:1 «first» / «first»|Sprint planning|Design review|All hands|«Word» kickoff» @ «weekday» «month» «n31», «year» «n9»«am|pm» - «n9»«am|pm» («email»)",
    "Accepted: «Weekly sync|Sprint retro|Budget review» @ «weekday» «month» «n31»", "Updated invitation: «Word» review", "Canceled: «Team offsite|Weekly sync»",
    "Your «real_brand» «receipt|order confirmation|invoice» «ref_no»", "Your receipt from «Apple|Google Play|Uber|Lyft|Starbucks|Steam» «ref_no»",
    "Your «Amazon.com|eBay|Etsy|Walmart» order «ref_no» has shipped", "Your order is on its way! «ref_no»", "Delivered: Your package «ref_no»",
    "«UPS|FedEx|DHL|USPS» Update: Scheduled delivery «weekday», «month» «n31»", "Your «real_brand» statement is ready",
    "Your password was changed", "Your «GitHub|Google|Microsoft|Slack|Dropbox» password has been changed", "[GitHub] A new SSH key was added to your account",
    "New sign-in to your «Google|Microsoft|Dropbox» account from «Chrome on Windows|Safari on iPhone|Firefox on Linux»", "Security code for your «real_brand» account",
    "Your verification code is «n99»«n99»«n99»", "Welcome to «real_brand»!", "Confirm your subscription to «Word» Weekly", "Thanks for signing up, «first»!",
    "«Word» Weekly #«n99»: «word», «word» and «word»", "The «month» newsletter from «company»", "«n9» new jobs for «word» engineer in «city»",
    "[JIRA] («WEB|OPS|SEC|DATA»-«num») «Fix|Investigate|Add|Update» «word» «bug|tests|alert|pipeline»", "[«word»/«word»] «Fix|Bump|Add» «word» (#«num»)",
    "Re: [«word»/«word»] «word» «fails|breaks|crashes» on «word» (Issue #«num»)", "Build «failed|succeeded»: «word»/«main|develop» #«num»",
    "[Alert] «CPU|Disk|Memory» usage above «n99»% on «host»", "[Resolved] «Word» service degraded", "Incident INC«num» has been resolved",
    "Out of Office: «Re: |»«Word» «word»", "Automatic reply: «Word» «word»", "«first» «last» has invited you to collaborate on «Word»",
    "«first» commented on «Word» «word»", "You have «n9» new «messages|notifications|connections»", "Reminder: «Timesheets due Friday|Benefits enrollment closes «month» «n31»|Complete your security awareness training»",
    "«HR|People Team|IT»: «Office closed on «weekday»|New «VPN|expense|travel» policy|Welcome our new team members|Holiday schedule «year»»",
    "Happy birthday, «first»!", "Congratulations on your work anniversary, «first»!", "Photos from the «team offsite|holiday party|hackathon»",
    "Your «monthly|weekly» «Spotify|Netflix|Strava|Fitbit» «summary|recap|report»", "Price drop on «word» «word»", "Your «real_brand» trial ends in «n9» days",
    "«Invoice|Receipt» «ref_no» from «company» - paid, thank you", "Payment received - thank you", "Your «real_brand» subscription has been renewed",
    "«Zoom|Teams|Meet» meeting: «Word» «word» sync", "Shared with you: \"«Word» «word» «notes|plan|draft»\"", "«first» shared a folder with you",
    "«Re: |RE: |FW: |Fwd: |»«gas|power|deal|contract|trade|pipeline|storage|capacity» «nominations|confirmation|schedule|agreement|volumes|update» «for «month»|«n9»/«n31»|»",
    "«Re: |»Meeting with «fullname» «tomorrow|on «weekday»|next week»", "«Weekly|Daily|Monthly» status report«| - «Word»»", "Conference call «tomorrow at «n9»|on «weekday»»",
    "«Re: |»Revised «word» schedule", "«company» «update|news|announcement»", "«Draft|Final|Revised» «word» «contract|agreement|proposal|presentation»",
    "«Re: |»«Happy hour|Dinner|Drinks|Coffee» «tonight|on «weekday»|next week»?", "«Re: |»«Pics|Photos» from the weekend", "«Re: |»«Question|Follow-up» on «word» «numbers|report|plan»",
    "«Re: |»«Your|The» «expense report|PTO request|travel request» «was approved|needs approval|has been submitted»", "«Re: |»Interview schedule for «fullname»",
];

fn mail_subject(rng: &mut Rng) -> String {
    let s = rng.fill_one(MAIL_SUBJECTS);
    if rng.chance(10) {
        format!("Subject: {s}")
    } else {
        s
    }
}

const MAIL_SENTENCES: &[&str] = &[
    "Hi «first»,", "Hello team,", "Dear «first»,", "Thanks for the update.", "Please find the «report|slides|agenda|minutes» attached.",
    "Can we move our «1:1|sync|call» to «weekday»?", "Let me know if you have any questions.", "Your order «ref_no» has shipped and will arrive «weekday».",
    "You can track your package at https://www.«ups|fedex|dhl».com/track?num=«num».", "Your password for «email» was changed on «date». If this was you, no action is needed.",
    "If you didn't make this change, visit your account settings at https://«myaccount.google.com|account.microsoft.com|github.com/settings/security».",
    "We noticed a new sign-in to your account. If this was you, you can ignore this email.", "The meeting notes are in the shared folder.",
    "Reminder: the office will be closed on «weekday» for maintenance.", "Thanks, «first»", "Best regards,", "Cheers,", "«fullname»",
    "Your monthly statement is available in online banking.", "Thank you for your payment of «amount».", "See you tomorrow!",
    "I've reviewed the PR and left a few comments.", "The build is green again after the fix.", "Attached is the invoice for «month».",
    "Unsubscribe: https://«fqdn»/unsubscribe?u=«hex16»", "You are receiving this because you subscribed to «Word» updates.",
];

fn mail_body(rng: &mut Rng) -> String {
    let n = rng.range(2, 5);
    let parts: Vec<String> = (0..n).map(|_| rng.fill_one(MAIL_SENTENCES)).collect();
    parts.join(rng.pick(&[" ", "\n", " \n"]))
}

fn mail_log(rng: &mut Rng) -> String {
    let sender = rng.fill("«email»");
    let rcpt = rng.fill("«email»");
    match rng.below(5) {
        0 => format!("From: \"{}\" <{sender}>\nTo: {rcpt}\nSubject: {}", rng.fill("«fullname»"), mail_subject(rng)),
        1 => format!("Authentication-Results: mx.{}; spf=pass smtp.mailfrom={}; dkim=pass header.d={}; dmarc=pass header.from={}", rng.fill("«domain»"), sender.split('@').nth(1).unwrap_or("example.com"), sender.split('@').nth(1).unwrap_or("example.com"), sender.split('@').nth(1).unwrap_or("example.com")),
        2 => json!({"Timestamp": rng.fill("«ts_iso»"), "SenderFromAddress": sender, "RecipientEmailAddress": rcpt, "Subject": mail_subject(rng), "DeliveryAction": "Delivered", "LatestDeliveryLocation": "Inbox", "ThreatTypes": ""}).to_string(),
        3 => format!("{} action=deliver reason=clean score={} sender={sender} rcpt={rcpt} subject=\"{}\"", rng.fill("«ts_iso»"), rng.range(0, 20), mail_subject(rng)),
        _ => format!("X-Spam-Status: No, score=-{}.{} required=5.0 tests=DKIM_SIGNED,DKIM_VALID,SPF_PASS autolearn=ham", rng.range(0, 5), rng.range(0, 9)),
    }
}

fn benign_url(rng: &mut Rng) -> String {
    rng.fill("«https://«fqdn»/«word»/«word»?utm_source=«newsletter|twitter|google»&utm_medium=«email|social|cpc»&utm_campaign=«word»_«year»|https://www.google.com/search?q=«word»+«word»|https://github.com/«word»/«word»/pull/«num»|https://docs.google.com/document/d/«hex16»«hex16»/edit|https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=«uuid»&redirect_uri=https%3A%2F%2F«fqdn»%2Fcallback&response_type=code&scope=openid|https://«fqdn»/reset-password?token=«hex16»«hex16»|https://www.youtube.com/watch?v=«alnum_id»|https://en.wikipedia.org/wiki/«Word»_«word»|https://stackoverflow.com/questions/«num»/how-to-«word»-«word»|https://«fqdn»/api/v«n9»/«word»s?page=«n9»&sort=-created_at|https://maps.google.com/?q=«street»+«n99»,+«city»|https://«fqdn»/login?next=%2F«word»%2F«num»|https://«fqdn»/«word».php?id=«num»&lang=«en|es|de»|https://zoom.us/j/«bignum»?pwd=«alnum_id»|https://teams.microsoft.com/l/meetup-join/19%3ameeting_«alnum_id»%40thread.v2/0|https://www.amazon.com/dp/B0«alnum_id»|https://«fqdn»/download/«word»-«n9».«n9».«n9».tar.gz|http://localhost:«3000|8080|5173»/«word»»")
}

const SENTENCES: &[&str] = &[
    "The «word» report is ready for review.",
    "Deployment to «prod|staging» finished without errors.",
    "Please restart the «word» service after the update.",
    "We moved the «word» meeting to «weekday».",
    "The printer on the «n9»th floor is out of toner.",
    "Can you reset my VPN password? I'm locked out after the holiday.",
    "Fixed typo in README.",
    "Bump «package» from «n9».«n9».«n9» to «n9».«n9».«n9».",
    "Add unit tests for the «word» parser.",
    "Refactor «word» handling into its own module.",
    "Customer reports that the «word» page loads slowly on mobile.",
    "The backup job completed in «n99» minutes.",
    "Disk usage on «host» is at «n99»%.",
    "Our new office in «city» opens next month.",
    "Thanks for your order! It will ship within 2 business days.",
    "Free shipping on orders over $«n99».",
    "This product is 100% cotton and machine washable.",
    "Sign in to see your recommendations.",
    "Select your size to continue.",
    "Union members meet every «weekday» at 6 pm.",
    "Drop us a line if you have questions.",
    "The script for the school play is due «weekday».",
    "Sleep well and see you tomorrow.",
    "Insert the card and enter your PIN.",
    "Update: the «word» release is delayed by one week.",
    "Admin access is granted by the IT team after manager approval.",
    "Our root cause analysis found a misconfigured load balancer.",
    "The cat sat on the mat.",
    "It's «n31» degrees and sunny in «city» today.",
    "Don't forget to bring your badge tomorrow.",
    "«first» will be on leave from «month» «n31» to «month» «n31».",
    "The quarterly numbers look «good|better than expected|flat».",
    "I'd like to book a table for «n9» at «n9»:«n31»«0|» pm.",
    "Where's the nearest «pharmacy|station|ATM»?",
    "Great work on the launch, everyone!",
];

fn prose(rng: &mut Rng) -> String {
    let n = rng.range(1, 3);
    (0..n).map(|_| rng.fill_one(SENTENCES)).collect::<Vec<_>>().join(" ")
}
