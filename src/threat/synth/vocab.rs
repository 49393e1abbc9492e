//! The vocabulary every family shares: addresses, ports, users, hosts, domains, timestamps in the
//! formats logs write them, user agents, web paths and parameters, files. Each is a slot for the
//! templates (`«ip»`, `«ts_syslog»`, ...).

use super::Rng;

const MONTHS: &[&str] = &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub const USERS: &[&str] = &[
    "root",
    "admin",
    "jdoe",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "mallory",
    "oscar",
    "peggy",
    "trent",
    "victor",
    "walter",
    "ubuntu",
    "ec2-user",
    "centos",
    "debian",
    "pi",
    "oracle",
    "postgres",
    "mysql",
    "www-data",
    "nginx",
    "apache",
    "deploy",
    "jenkins",
    "git",
    "gitlab-runner",
    "ansible",
    "svc_backup",
    "svc_sql",
    "svc-web",
    "backup",
    "test",
    "test1",
    "guest",
    "user",
    "user01",
    "support",
    "info",
    "sales",
    "m.keller",
    "j.smith",
    "a.nguyen",
    "p.schmidt",
    "l.rossi",
    "k.tanaka",
    "s.patel",
    "r.garcia",
    "e.mueller",
    "t.johnson",
    "hadoop",
    "spark",
    "elastic",
    "kafka",
    "zabbix",
    "nagios",
    "ftpuser",
    "webmaster",
    "operator",
    "tomcat",
    "minecraft",
    "steam",
    "vagrant",
    "docker",
    "dev",
    "devops",
    "sysadmin",
    "helpdesk",
    "administrator",
    "Administrator",
    "scanner",
    "printer",
    "kiosk",
    "teamcity",
    "sonar",
    "redis",
    "odoo",
    "nextcloud",
    "mlflow",
    "airflow",
    "grafana",
    "prometheus",
    "bamboo",
    "confluence",
    "jira",
    "svn",
    "hduser",
];

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Ahmed",
    "Fatima",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Olga",
    "Dmitri",
    "Lukas",
    "Anna",
    "Sofia",
    "Mateo",
    "Priya",
    "Raj",
    "Chloe",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Lucas",
    "Ines",
    "Pierre",
    "Claire",
    "Giulia",
    "Marco",
    "Sven",
    "Ingrid",
    "Kwame",
    "Amara",
    "Diego",
    "Lucia",
    "Tomasz",
    "Agnieszka",
    "Sean",
    "Siobhan",
    "Kevin",
    "Nora",
    "Omar",
    "Leila",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Keller",
    "Schmidt",
    "Müller",
    "Rossi",
    "Bianchi",
    "Tanaka",
    "Sato",
    "Kowalski",
    "Novak",
    "Dubois",
    "Moreau",
    "O'Brien",
    "O'Connor",
    "MacLeod",
    "Patel",
    "Singh",
    "Khan",
    "Ivanova",
    "Petrov",
    "Jensen",
    "Larsen",
    "Silva",
    "Santos",
    "Costa",
    "Haddad",
    "Mensah",
    "Okafor",
    "Fischer",
    "Weber",
    "van Dijk",
    "de Vries",
    "García-López",
];

const HOST_STEMS: &[&str] = &[
    "web", "www", "app", "api", "db", "sql", "mail", "mx", "smtp", "vpn", "fw", "gw", "proxy", "dc", "ad", "files",
    "nas", "backup", "build", "ci", "jenkins", "git", "k8s-node", "worker", "master", "edge", "cache", "redis",
    "kafka", "es", "log", "mon", "grafana", "bastion", "jump", "dev", "stage", "prod-api", "prod-web", "srv", "host",
    "node", "lab", "print", "wiki", "erp", "crm", "hr-app", "intranet", "sftp", "ftp", "dns", "ns",
];
const WIN_HOST_STEMS: &[&str] = &["DESKTOP", "LAPTOP", "WIN", "WS", "PC", "SRV", "DC", "FS", "SQL", "EXCH", "RDS"];

/// Ordinary organisations' domains (ours, our vendors', our customers').
pub const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "acme-corp.com",
    "contoso.com",
    "fabrikam.com",
    "northwind.io",
    "globex.net",
    "initech.com",
    "umbrella-health.org",
    "wayne-ent.com",
    "stark-industries.com",
    "hooli.xyz",
    "piedpiper.net",
    "vandelay.co",
    "dundermifflin.com",
    "corp.local",
    "internal.lan",
    "ad.contoso.com",
    "mycompany.de",
    "firma-schmidt.de",
    "societe-generale-test.fr",
    "tienda-online.es",
    "univ-example.edu",
    "cityhospital.org",
    "cloudnine.app",
    "bluepeak.io",
    "greenleaf.co.uk",
    "nordicsoft.se",
    "sakura-shop.jp",
    "brightlabs.ai",
    "oakridge-bank.com",
    "metro-transit.gov",
    "riverdale.k12.us",
    "alpine-logistics.ch",
];

const EVIL_STEMS: &[&str] = &[
    "update",
    "cdn",
    "sync",
    "secure",
    "login",
    "verify",
    "account",
    "auth",
    "static",
    "api",
    "cloud",
    "drive",
    "docs",
    "service",
    "support",
    "office",
    "micr0soft",
    "win-update",
    "ms-check",
    "telemetry",
    "analytics",
    "img",
    "stats",
    "track",
    "mail",
    "portal",
    "wallet",
    "billing",
    "invoice",
    "track-parcel",
    "delivery",
];
const EVIL_TLDS: &[&str] = &[
    "top", "xyz", "ru", "su", "cn", "tk", "ml", "ga", "cf", "gq", "pw", "cc", "biz", "info", "online", "site", "club",
    "work", "click", "link", "live", "icu", "buzz", "monster", "rest", "shop", "com", "net", "org", "io",
];

const BROWSER_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/«n120» Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:«n120».0) Gecko/20100101 Firefox/«n120».0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.«n9» Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/«n120».0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_«n9» like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 1«n9»; SM-G99«n9»B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/«n120».0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/«n120».0.0.0 Safari/537.36 Edg/«n120».0",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "okhttp/4.«n9».0", "Dalvik/2.1.0 (Linux; U; Android 13)", "curl/8.«n9».0", "Wget/1.21.«n9»",
    "python-requests/2.«n31».0", "Go-http-client/1.1", "Java/17.0.«n9»", "axios/1.«n9».2", "PostmanRuntime/7.«n31».0",
    "kube-probe/1.2«n9»", "ELB-HealthChecker/2.0", "Prometheus/2.4«n9».0", "UptimeRobot/2.0", "Slackbot-LinkExpanding 1.0",
];

const WEB_PATHS: &[&str] = &[
    "/",
    "/index.php",
    "/index.html",
    "/search",
    "/search.php",
    "/products",
    "/product.php",
    "/products/view",
    "/item",
    "/catalog/item.aspx",
    "/shop/cart",
    "/cart/add",
    "/checkout",
    "/login",
    "/login.php",
    "/account/login",
    "/signin",
    "/user/profile",
    "/profile.php",
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v2/items",
    "/api/search",
    "/graphql",
    "/comments",
    "/comment/post",
    "/blog/post.php",
    "/news/article",
    "/article.jsp",
    "/forum/viewtopic.php",
    "/wiki/index.php",
    "/download.php",
    "/view.php",
    "/page.php",
    "/show.asp",
    "/details.aspx",
    "/report",
    "/reports/export",
    "/admin/users",
    "/dashboard",
    "/contact",
    "/feedback.php",
    "/subscribe",
    "/register",
    "/tienda1/publico/anadir.jsp",
    "/tienda1/publico/autenticar.jsp",
    "/tienda1/miembros/editar.jsp",
    "/cgi-bin/query",
    "/portal/default.aspx",
    "/servlet/Lookup",
    "/app/track",
    "/orders/status",
    "/invoice/view",
    "/files/get",
];

const PARAMS: &[&str] = &[
    "id",
    "q",
    "query",
    "search",
    "s",
    "keyword",
    "term",
    "page",
    "p",
    "cat",
    "category",
    "user",
    "username",
    "name",
    "email",
    "pid",
    "item",
    "product",
    "order",
    "sort",
    "dir",
    "lang",
    "ref",
    "redirect",
    "next",
    "url",
    "msg",
    "comment",
    "title",
    "text",
    "body",
    "city",
    "zip",
    "nombre",
    "apellidos",
    "direccion",
    "ciudad",
    "cp",
    "login",
    "pwd",
    "password",
    "token",
    "uid",
    "code",
    "filter",
    "from",
    "to",
    "date",
    "type",
    "mode",
    "view",
    "tab",
];

const STATIC_ASSETS: &[&str] = &[
    "/static/js/app.«hex8».js",
    "/static/css/main.«hex8».css",
    "/assets/img/logo.png",
    "/favicon.ico",
    "/images/banner_«n99».jpg",
    "/js/jquery-3.«n9».1.min.js",
    "/css/bootstrap.min.css",
    "/fonts/roboto-v«n31».woff2",
    "/robots.txt",
    "/sitemap.xml",
    "/apple-touch-icon.png",
    "/manifest.json",
    "/static/media/hero.«hex8».webp",
    "/wp-content/themes/«word»/style.css",
    "/wp-includes/js/wp-emoji-release.min.js",
    "/dist/bundle.«hex8».js",
];

const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "report",
    "summary",
    "invoice",
    "budget",
    "roadmap",
    "backup",
    "release",
    "notes",
    "draft",
    "final",
    "data",
    "export",
    "import",
    "archive",
    "photo",
    "holiday",
    "project",
    "client",
    "meeting",
    "minutes",
    "q1",
    "q2",
    "q3",
    "q4",
    "plan",
    "design",
    "spec",
    "contract",
    "payroll",
    "forecast",
    "inventory",
    "orders",
    "customers",
    "sales",
    "marketing",
    "legal",
    "hr",
    "finance",
    "ops",
    "infra",
    "security",
    "audit",
    "review",
];

const LINUX_DIRS: &[&str] = &[
    "/var/www/html",
    "/var/www/app",
    "/srv/app",
    "/opt/app",
    "/opt/«word»",
    "/home/«user»",
    "/home/«user»/projects",
    "/data",
    "/var/lib/«word»",
    "/usr/local/bin",
    "/etc/nginx",
    "/etc/«word»",
    "/var/log",
    "/var/log/nginx",
    "/tmp",
    "/mnt/backup",
    "/backup",
    "/srv/www/«word»",
    "/var/opt/«word»",
];

const WIN_DIRS: &[&str] = &[
    "C:\\Users\\«user»\\Documents",
    "C:\\Users\\«user»\\Downloads",
    "C:\\Users\\«user»\\Desktop",
    "C:\\ProgramData\\«word»",
    "C:\\Program Files\\«word»",
    "C:\\inetpub\\wwwroot",
    "D:\\Shares\\«word»",
    "C:\\Windows\\Temp",
    "C:\\Temp",
    "\\\\fs01\\«word»",
    "C:\\Users\\Public",
    "E:\\Backups",
];

const EXTENSIONS: &[&str] =
    &["txt", "pdf", "docx", "xlsx", "csv", "json", "log", "zip", "tar.gz", "png", "jpg", "pptx", "xml", "sql", "bak"];

/// The placeholder forms of a slot, as documentation and payload lists write the value.
pub fn placeholders(name: &str) -> Option<&'static [&'static str]> {
    let forms: &'static [&'static str] = match name {
        "ip" | "pub_ip" | "priv_ip" => &[
            "ip_address",
            "10.0.0.1",
            "192.168.1.1",
            "IP",
            "<ip>",
            "{{ip_address}}",
            "#{target_ip}",
            "x.x.x.x",
            "1.2.3.4",
            "127.0.0.1",
        ],
        "host" | "fqdn" | "winhost" => &[
            "hostname",
            "remote_host",
            "target",
            "host.example.com",
            "server",
            "{{host}}",
            "#{remote_host}",
            "computername",
            "TARGET",
        ],
        "domain" => &["example.com", "domain.local", "DOMAIN", "{{domain}}", "#{domain}", "target.com"],
        "evil_domain" | "c2" | "drop_site" => &[
            "attacker.com",
            "attacker.com",
            "evil.com",
            "attacker.example.com",
            "ATTACKER_IP",
            "LHOST",
            "#{remote_host}",
            "<attacker>",
            "10.0.0.1",
            "#{server_ip}",
        ],
        "user" => &["user", "username", "USER", "{{username}}", "#{user_name}", "<user>", "victim"],
        "winuser" => &["DOMAIN\\user", "domain\\username", "#{user_name}", "{{username}}"],
        "port" | "lport" | "hiport" => &["12345", "PORT", "LPORT", "4444", "#{port}", "{{port}}", "8080"],
        "email" => &["user@example.com", "{{email}}", "#{recipient}", "victim@example.com"],
        "linux_dir" => &["/path/to/dir", "path/to/directory", "/path/to/temp-dir", "{{path/to/directory}}"],
        "win_dir" => &["C:\\path\\to\\dir", "%TEMP%", "#{output_folder}", "C:\\Users\\user"],
        "payload_url" => &[
            "http://attacker.com/payload",
            "http://attacker.com/path/to/input-file",
            "#{remote_url}",
            "https://example.com/file.exe",
            "http://ATTACKER_IP/shell.ps1",
            "{{url}}",
        ],
        "drop_unix" => &["/path/to/output-file", "/path/to/temp-file", "#{output_file}", "/tmp/file"],
        "drop_win" => {
            &["C:\\path\\to\\file.exe", "#{output_file}", "%TEMP%\\payload.exe", "C:\\Users\\Public\\file.exe"]
        }
        "secret_unix" => &["/path/to/input-file", "#{input_file}", "/path/to/file", "{{path/to/file}}"],
        "secret_win" => &["C:\\path\\to\\input-file", "#{input_file}", "C:\\path\\to\\file"],
        _ => return None,
    };
    Some(forms)
}

/// Resolves a shared slot; `None` if the name is not a shared slot.
pub fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    let v = match name {
        "ip" => {
            if rng.chance(45) {
                priv_ip(rng)
            } else {
                pub_ip(rng)
            }
        }
        "pub_ip" => pub_ip(rng),
        "priv_ip" => priv_ip(rng),
        "ip6" => format!("2001:db8:{:x}::{:x}", rng.range(1, 0xffff), rng.range(1, 0xffff)),
        "port" => rng.pick(&["22", "80", "443", "8080", "8443", "3389", "445", "21", "25", "3306", "5432"]).into(),
        "hiport" => rng.range(1024, 65535).to_string(),
        "lport" => rng
            .pick(&[
                "4444", "4443", "443", "8080", "9001", "1337", "53", "8443", "5555", "31337", "9999", "12345", "LPORT",
                "4242",
            ])
            .into(),
        "pid" => rng.range(2, 65000).to_string(),
        "n9" => rng.range(0, 9).to_string(),
        "n31" => rng.range(1, 31).to_string(),
        "n99" => rng.range(1, 99).to_string(),
        "n120" => rng.range(60, 131).to_string(),
        "num" => rng.range(1, 99_999).to_string(),
        "bignum" => rng.range(100_000, 9_999_999_999).to_string(),
        "hex4" => format!("{:04x}", rng.range(0, 0xffff)),
        "hex8" => format!("{:08x}", rng.next_u64() as u32),
        "hex16" => format!("{:016x}", rng.next_u64()),
        "uuid" => {
            let (a, b) = (rng.next_u64(), rng.next_u64());
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                b >> 52,
                b & 0xffff_ffff_ffff
            )
        }
        "user" => rng.pick(USERS).into(),
        "winuser" => {
            format!("{}\\{}", rng.pick(&["CORP", "CONTOSO", "ACME", "WORKGROUP", "AD", "LAB"]), rng.pick(USERS))
        }
        "first" => rng.pick(FIRST_NAMES).into(),
        "last" => rng.pick(LAST_NAMES).into(),
        "fullname" => format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
        "email" => {
            let local = match rng.below(3) {
                0 => rng.pick(USERS).to_string(),
                1 => format!("{}.{}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
                    .to_lowercase()
                    .replace(['\'', ' '], ""),
                _ => rng.pick(FIRST_NAMES).to_lowercase(),
            };
            format!("{local}@{}", rng.pick(DOMAINS))
        }
        "host" => host(rng),
        "winhost" => format!("{}-{}", rng.pick(WIN_HOST_STEMS), alnum_upper(rng, 4, 7)),
        "fqdn" => format!("{}.{}", host(rng), rng.pick(DOMAINS)),
        "domain" => rng.pick(DOMAINS).into(),
        "evil_domain" => evil_domain(rng),
        "c2" => match rng.below(100) {
            // Write-ups and payload lists name the attacker's host with placeholders.
            0..=7 => rng
                .pick(&[
                    "attacker.com",
                    "evil.com",
                    "ATTACKER_IP",
                    "10.0.0.1",
                    "attacker.example",
                    "LHOST",
                    "192.168.1.100",
                    "x.x.x.x",
                    "evil.example.com",
                    "ATTACKER",
                ])
                .into(),
            8..=52 => pub_ip(rng),
            _ => evil_domain(rng),
        },
        "month" => rng.pick(MONTHS).into(),
        "weekday" => rng.pick(WEEKDAYS).into(),
        "year" => rng.range(2018, 2025).to_string(),
        "date" => {
            let s = Stamp::draw(rng);
            format!("{}-{:02}-{:02}", s.year, s.month, s.day)
        }
        "time" => {
            let s = Stamp::draw(rng);
            format!("{:02}:{:02}:{:02}", s.hour, s.minute, s.second)
        }
        "ts_syslog" => Stamp::draw(rng).syslog(),
        "ts_iso" => Stamp::draw(rng).iso(),
        "ts_iso_ms" => Stamp::draw(rng).iso_ms(),
        "ts_apache" => Stamp::draw(rng).apache(),
        "ts_apache_err" => Stamp::draw(rng).apache_error(),
        "ts_nginx" => Stamp::draw(rng).nginx(),
        "ts_win" => Stamp::draw(rng).windows(),
        "ts_epoch" => Stamp::draw(rng).epoch().to_string(),
        "ts_epoch_ms" => format!("{}.{:03}", Stamp::draw(rng).epoch(), rng.range(0, 999)),
        "ts_sql" => Stamp::draw(rng).sql(),
        "ts_java" => Stamp::draw(rng).java(),
        "ua" => rng.pick(BROWSER_UAS).into(),
        "method" => rng.pick(&["GET", "GET", "GET", "POST", "POST", "PUT", "HEAD"]).into(),
        "status_ok" => rng.pick(&["200", "200", "200", "200", "304", "301", "302", "204", "201"]).into(),
        "status" => rng.pick(&["200", "200", "200", "404", "500", "403", "302", "400", "301"]).into(),
        "bytes" => rng.range(0, 250_000).to_string(),
        "webpath" => rng.pick(WEB_PATHS).into(),
        "param" => rng.pick(PARAMS).into(),
        "asset" => rng.pick(STATIC_ASSETS).into(),
        "word" => rng.pick(WORDS).into(),
        "ext" => rng.pick(EXTENSIONS).into(),
        "file" => format!(
            "{}{}.{}",
            rng.pick(WORDS),
            rng.fill_one(&["", "_final", "-v2", "_2024", "_«n99»", "-copy"]),
            rng.pick(EXTENSIONS)
        ),
        "linux_dir" => rng.pick(LINUX_DIRS).into(),
        "win_dir" => rng.pick(WIN_DIRS).into(),
        "http_version" => rng.pick(&["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"]).into(),
        _ => return None,
    };
    Some(v)
}

/// Random uppercase letters and digits, `lo..=hi` long (Windows host names).
fn alnum_upper(rng: &mut Rng, lo: usize, hi: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let len = rng.range(lo as u64, hi as u64) as usize;
    (0..len).map(|_| CHARS[rng.below(CHARS.len())] as char).collect()
}

/// Random lowercase letters and digits, `lo..=hi` long (domain labels, file names, DGA-like names).
pub fn alnum_lower(rng: &mut Rng, lo: usize, hi: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.range(lo as u64, hi as u64) as usize;
    (0..len).map(|_| CHARS[rng.below(CHARS.len())] as char).collect()
}

fn host(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("ip-{}-{}-{}-{}", 10, rng.range(0, 255), rng.range(0, 255), rng.range(1, 254)),
        1 => format!("{}-{}", rng.pick(WIN_HOST_STEMS), alnum_upper(rng, 6, 6)),
        _ => format!("{}{}{:02}", rng.pick(HOST_STEMS), rng.pick(&["", "-", "-prod-", "-dev-"]), rng.range(1, 40)),
    }
}

fn pub_ip(rng: &mut Rng) -> String {
    loop {
        let a = rng.range(1, 223);
        if matches!(a, 10 | 127 | 172 | 192 | 169 | 100) {
            continue;
        }
        return format!("{a}.{}.{}.{}", rng.range(0, 255), rng.range(0, 255), rng.range(1, 254));
    }
}

fn priv_ip(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("10.{}.{}.{}", rng.range(0, 255), rng.range(0, 255), rng.range(1, 254)),
        1 => format!("192.168.{}.{}", rng.range(0, 255), rng.range(1, 254)),
        _ => format!("172.{}.{}.{}", rng.range(16, 31), rng.range(0, 255), rng.range(1, 254)),
    }
}

fn evil_domain(rng: &mut Rng) -> String {
    let tld = rng.pick(EVIL_TLDS);
    match rng.below(4) {
        0 => format!("{}.{tld}", alnum_lower(rng, 6, 14)),
        1 => format!("{}-{}.{tld}", rng.pick(EVIL_STEMS), rng.pick(EVIL_STEMS)),
        2 => format!("{}{}.{tld}", rng.pick(EVIL_STEMS), rng.range(1, 999)),
        _ => format!("{}.{}-{}.{tld}", rng.pick(EVIL_STEMS), rng.pick(EVIL_STEMS), alnum_lower(rng, 4, 4)),
    }
}

/// A moment, drawn once and written in the formats logs use.
struct Stamp {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Stamp {
    fn draw(rng: &mut Rng) -> Stamp {
        Stamp {
            year: rng.range(2018, 2025),
            month: rng.range(1, 12),
            day: rng.range(1, 28),
            hour: rng.range(0, 23),
            minute: rng.range(0, 59),
            second: rng.range(0, 59),
        }
    }
    fn mon(&self) -> &'static str {
        MONTHS[(self.month as usize - 1) % 12]
    }
    fn syslog(&self) -> String {
        format!("{} {:>2} {:02}:{:02}:{:02}", self.mon(), self.day, self.hour, self.minute, self.second)
    }
    fn iso(&self) -> String {
        format!("{}Z", self.sql().replace(' ', "T"))
    }
    fn iso_ms(&self) -> String {
        format!("{}.{:03}+00:00", self.sql().replace(' ', "T"), (self.second * 37 + self.minute) % 1000)
    }
    fn apache(&self) -> String {
        format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
            self.day,
            self.mon(),
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
    fn apache_error(&self) -> String {
        let wd = WEEKDAYS[((self.day + self.month) % 7) as usize];
        format!(
            "{wd} {} {:02} {:02}:{:02}:{:02}.{:06} {}",
            self.mon(),
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.minute * 1013,
            self.year
        )
    }
    fn nginx(&self) -> String {
        format!(
            "{}/{:02}/{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
    fn windows(&self) -> String {
        let (h12, ampm) = match self.hour {
            0 => (12, "AM"),
            1..=11 => (self.hour, "AM"),
            12 => (12, "PM"),
            h => (h - 12, "PM"),
        };
        format!("{}/{}/{} {}:{:02}:{:02} {ampm}", self.month, self.day, self.year, h12, self.minute, self.second)
    }
    fn epoch(&self) -> u64 {
        // Close enough for log realism: 365-day years, 31-day months.
        1_514_764_800
            + (self.year - 2018) * 31_536_000
            + (self.month - 1) * 2_678_400
            + (self.day - 1) * 86_400
            + self.hour * 3600
            + self.minute * 60
            + self.second
    }
    fn sql(&self) -> String {
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
    fn java(&self) -> String {
        format!("{},{:03}", self.sql(), (self.second * 17 + self.minute * 3) % 1000)
    }
}
