//! The containers real texts arrive in: a payload as a raw value, in a URL, in Apache/nginx/IIS
//! access logs, JSON application and WAF logs, request headers and bodies; a command line raw, in
//! shell history, auditd, syslog, Sysmon/4688 events, EDR JSON, PowerShell script-block logs; a
//! message in syslog's several shapes. Benign generators use the same containers, so the
//! container never tells the label.

use super::encode::{url_encode, UrlLevel};
use super::Rng;
use serde_json::json;

/// A payload that travels as a parameter value, placed in one container. `waf_rule` names the
/// rule a WAF would report for it (`None` for benign values: no WAF line is made then).
pub fn web_value(rng: &mut Rng, value: &str, waf_rule: Option<&str>) -> String {
    let pick = rng.below(100);
    match pick {
        0..=29 => raw_value(rng, value),
        30..=41 => url_with(rng, value),
        42..=61 => access_log(rng, value),
        62..=68 => json_request_log(rng, value),
        69..=73 => match waf_rule {
            Some(rule) => waf_log(rng, value, rule),
            None => access_log(rng, value),
        },
        74..=77 => {
            let url = query_url(rng, value);
            nginx_error(rng, &url)
        }
        78..=84 => post_body(rng, value),
        85..=89 => iis_log(rng, value),
        90..=94 => header(rng, value),
        _ => request_line(rng, value),
    }
}

/// A payload that is (part of) the URL path itself, as path traversal and scanner probes are.
pub fn web_path(rng: &mut Rng, path: &str) -> String {
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    match rng.below(10) {
        0..=2 => path,
        3 => format!("{}://{}{path}", rng.pick(&["http", "https"]), rng.fill("«fqdn»")),
        4..=6 => {
            let status = rng.pick(&["404", "400", "403", "200", "500", "301"]);
            combined_log(rng, &path, status)
        }
        7 => nginx_error(rng, &path),
        8 => {
            let t = rng.fill("«ts_iso_ms»");
            let ip = rng.fill("«ip»");
            json!({"time": t, "remote_addr": ip, "request": format!("GET {path} HTTP/1.1"), "status": 404,
                   "http_user_agent": rng.fill("«ua»")})
            .to_string()
        }
        _ => {
            let parts: Vec<String> = [
                rng.fill("«date» «time»"),
                rng.fill("«priv_ip»"),
                "GET".to_string(),
                path,
                "-".to_string(),
                "443".to_string(),
                "-".to_string(),
                rng.fill("«ip»"),
                rng.fill("«ua»").replace(' ', "+"),
                "-".to_string(),
                rng.pick(&["404", "200", "400"]).to_string(),
                "0".to_string(),
                "0".to_string(),
                rng.range(1, 900).to_string(),
            ]
            .into();
            parts.join(" ")
        }
    }
}

/// The value alone; sometimes URL-encoded, as payload lists and form captures carry them.
fn raw_value(rng: &mut Rng, value: &str) -> String {
    if rng.chance(15) {
        let level = UrlLevel::draw(rng);
        url_encode(value, level, rng)
    } else {
        value.to_string()
    }
}

/// `?param=value` with other parameters around, the value URL-encoded at a drawn level.
fn query(rng: &mut Rng, value: &str) -> String {
    let level = UrlLevel::draw(rng);
    let encoded = url_encode(value, level, rng);
    let param = rng.fill("«param»");
    let mut q = format!("{param}={encoded}");
    if rng.chance(35) {
        q = format!("{}&{q}", rng.fill("«param»=«n99»"));
    }
    if rng.chance(30) {
        q.push_str(&rng.fill("&«param»=«word»"));
    }
    q
}

fn query_url(rng: &mut Rng, value: &str) -> String {
    let path = rng.fill("«webpath»");
    format!("{path}?{}", query(rng, value))
}

fn url_with(rng: &mut Rng, value: &str) -> String {
    let path_and_query = query_url(rng, value);
    if rng.chance(50) {
        path_and_query
    } else {
        format!("{}://{}{path_and_query}", rng.pick(&["http", "https"]), rng.fill("«fqdn»"))
    }
}

fn combined_log(rng: &mut Rng, target: &str, status: &str) -> String {
    let head = rng.fill("«ip» - «-|-|-|«user»» [«ts_apache»]");
    let method = if target.contains('?') { "GET" } else { rng.pick(&["GET", "GET", "POST", "HEAD"]) };
    let version = rng.fill("«http_version»");
    let tail = rng.fill("«bytes» \"«-|-|https://«fqdn»/»\" \"«ua»\"");
    // Apache writes a double quote inside the request as \x22 (nginx as \x22 too).
    let target = target.replace('"', "\\x22");
    if rng.chance(20) {
        // The "vhost_combined" and "time taken" variants.
        return format!(
            "{} {head} \"{method} {target} {version}\" {status} {tail} {}",
            rng.fill("«fqdn»:443"),
            rng.range(1, 5000)
        );
    }
    format!("{head} \"{method} {target} {version}\" {status} {tail}")
}

fn access_log(rng: &mut Rng, value: &str) -> String {
    let url = query_url(rng, value);
    let status = rng.fill("«status»");
    combined_log(rng, &url, &status)
}

fn json_request_log(rng: &mut Rng, value: &str) -> String {
    let param = rng.fill("«param»");
    let path = rng.fill("«webpath»");
    let t = rng.fill("«ts_iso_ms»");
    let ip = rng.fill("«ip»");
    match rng.below(3) {
        0 => json!({"timestamp": t, "level": rng.pick(&["info", "warn", "error"]), "msg": rng.pick(&["request", "handled request", "request completed", "validation failed"]),
                    "method": rng.pick(&["GET", "POST"]), "path": path, "params": {param: value}, "remote_ip": ip,
                    "status": rng.fill("«status»").parse::<u16>().unwrap_or(200), "duration_ms": rng.range(1, 900)})
        .to_string(),
        1 => json!({"@timestamp": t, "client": {"ip": ip}, "url": {"path": path, "query": format!("{param}={}", url_encode(value, UrlLevel::Reserved, rng))},
                    "http": {"request": {"method": "GET"}, "response": {"status_code": 200}}, "user_agent": {"original": rng.fill("«ua»")}})
        .to_string(),
        _ => json!({"ts": t, "service": rng.pick(&["api-gateway", "web", "checkout", "search-svc", "auth"]), "event": "form_submit",
                    "field": param, "value": value, "user_id": rng.range(1, 99999)})
        .to_string(),
    }
}

fn waf_log(rng: &mut Rng, value: &str, rule: &str) -> String {
    let param = rng.fill("«param»");
    let path = rng.fill("«webpath»");
    match rng.below(3) {
        0 => format!(
            "[{}] [security2:error] [pid {}] [client {}:{}] ModSecurity: {}. Matched Data: {} found within ARGS:{param}: {} [msg \"{rule}\"] [severity \"CRITICAL\"] [uri \"{path}\"] [unique_id \"{}\"]",
            rng.fill("«ts_apache_err»"),
            rng.fill("«pid»"),
            rng.fill("«ip»"),
            rng.fill("«hiport»"),
            rng.pick(&["Access denied with code 403 (phase 2)", "Warning", "Access denied with code 406 (phase 2)"]),
            value.chars().take(40).collect::<String>(),
            value,
            rng.fill("«hex16»")
        ),
        1 => json!({"timestamp": rng.fill("«ts_epoch»").parse::<u64>().unwrap_or(0), "action": rng.pick(&["BLOCK", "BLOCK", "COUNT"]),
                    "terminatingRuleId": rule, "httpRequest": {"clientIp": rng.fill("«pub_ip»"), "country": rng.pick(&["US", "CN", "RU", "NL", "DE", "BR", "VN"]),
                    "uri": path, "args": format!("{param}={}", url_encode(value, UrlLevel::Reserved, rng)), "httpMethod": "GET"}})
        .to_string(),
        _ => format!(
            "{} waf: action=block rule=\"{rule}\" src={} dst={} uri=\"{path}\" arg={param} payload=\"{}\"",
            rng.fill("«ts_iso»"),
            rng.fill("«pub_ip»"),
            rng.fill("«priv_ip»"),
            value.replace('"', "\\\"")
        ),
    }
}

fn nginx_error(rng: &mut Rng, target: &str) -> String {
    let head = rng.fill("«ts_nginx» [«error|warn|error»] «pid»#0: *«num»");
    let what = rng.fill(
        "«open() \"/var/www/html«webpath»\" failed (2: No such file or directory)|FastCGI sent in stderr: \"PHP message: PHP Warning:  Undefined array key «n9» in /var/www/html/index.php on line «n99»\" while reading response header from upstream|upstream timed out (110: Connection timed out) while reading response header from upstream|access forbidden by rule»",
    );
    let client = rng.fill("«ip»");
    let server = rng.fill("«fqdn»");
    format!("{head} {what}, client: {client}, server: {server}, request: \"GET {target} HTTP/1.1\", host: \"{server}\"")
}

fn post_body(rng: &mut Rng, value: &str) -> String {
    let level = if rng.chance(70) { UrlLevel::Reserved } else { UrlLevel::Spaces };
    let encoded = url_encode(value, level, rng);
    match rng.below(4) {
        0 => rng.fill("username=«user»&password=") + &encoded,
        1 => {
            format!("{}={encoded}&{}", rng.fill("«param»"), rng.fill("«submit=Send|action=save|btn=Buscar|B1=Submit»"))
        }
        2 => json!({rng.fill("«param»"): value, "page": rng.range(1, 9)}).to_string(),
        _ => format!(
            "POST {} {} body: {}={encoded}",
            rng.fill("«webpath»"),
            rng.fill("«http_version»"),
            rng.fill("«param»")
        ),
    }
}

fn iis_log(rng: &mut Rng, value: &str) -> String {
    let level = UrlLevel::draw(rng);
    let encoded = url_encode(value, level, rng).replace(' ', "+");
    format!(
        "{} {} GET {} {}={encoded} {} - {} {} {} {} 0 0 {}",
        rng.fill("«date» «time»"),
        rng.fill("«priv_ip»"),
        rng.fill("«webpath»"),
        rng.fill("«param»"),
        rng.pick(&["80", "443"]),
        rng.fill("«ip»"),
        rng.fill("«ua»").replace(' ', "+"),
        rng.pick(&["-", "https://www.example.com/"]),
        rng.fill("«status»"),
        rng.range(1, 3000)
    )
}

fn header(rng: &mut Rng, value: &str) -> String {
    match rng.below(5) {
        0 => format!("User-Agent: {value}"),
        1 => format!("Referer: https://{}/?{}", rng.fill("«fqdn»"), url_encode(value, UrlLevel::Spaces, rng)),
        2 => format!("Cookie: session={}; {}={value}", rng.fill("«hex16»"), rng.fill("«param»")),
        3 => format!("X-Forwarded-For: {value}"),
        _ => format!("{}: {value}", rng.pick(&["X-Api-Version", "Accept-Language", "X-Request-Id", "Origin"])),
    }
}

fn request_line(rng: &mut Rng, value: &str) -> String {
    format!(
        "{} {} {} Host: {}",
        rng.pick(&["GET", "POST"]),
        query_url(rng, value),
        rng.fill("«http_version»"),
        rng.fill("«fqdn»")
    )
}

/// Which shell a command line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Windows,
}

/// A command line raw or in one of the logs that record commands.
pub fn command(rng: &mut Rng, cmd: &str, os: Os) -> String {
    match os {
        Os::Linux => linux_command(rng, cmd),
        Os::Windows => windows_command(rng, cmd),
    }
}

fn linux_command(rng: &mut Rng, cmd: &str) -> String {
    match rng.below(100) {
        0..=44 => cmd.to_string(),
        45..=51 => format!("{:>5}  {cmd}", rng.range(1, 2000)),
        52..=58 => rng.fill("««user»@«host»:~$|root@«host»:~#|[«user»@«host» ~]$|$|#|«user»@«host»:/tmp$»") + " " + cmd,
        59..=64 => {
            let args: Vec<String> = split_args(cmd).iter().enumerate().map(|(i, a)| format!("a{i}=\"{}\"", a.replace('"', "\\\""))).collect();
            format!(
                "type=EXECVE msg=audit({}:{}): argc={} {}",
                rng.fill("«ts_epoch_ms»"),
                rng.range(100, 99999),
                args.len(),
                args.join(" ")
            )
        }
        65..=70 => format!(
            "{} {} snoopy[{}]: [uid:{} sid:{} tty:/dev/pts/{} cwd:{} filename:{}]: {cmd}",
            rng.fill("«ts_syslog»"),
            rng.fill("«host»"),
            rng.fill("«pid»"),
            rng.pick(&["0", "1000", "1001", "33", "0"]),
            rng.fill("«pid»"),
            rng.range(0, 5),
            rng.fill("«linux_dir»"),
            first_word_path(cmd)
        ),
        71..=77 => json!({"@timestamp": rng.fill("«ts_iso_ms»"), "host": {"name": rng.fill("«host»")}, "user": {"name": rng.fill("«user»")},
                          "event": {"category": "process", "type": "start"}, "process": {"executable": first_word_path(cmd), "command_line": cmd,
                          "parent": {"name": rng.pick(&["bash", "sh", "sshd", "cron", "python3", "java", "node", "php-fpm", "zsh"])}}})
        .to_string(),
        78..=81 => format!("{} {} bash[{}]: {}: {cmd}", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«pid»"), rng.fill("«user»")),
        82..=85 => format!("{} {} CRON[{}]: ({}) CMD ({cmd})", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«pid»"), rng.fill("«user»")),
        86..=90 => format!("{} -c '{}'", rng.pick(&["sh", "bash", "/bin/sh", "/bin/bash"]), cmd.replace('\'', "'\\''")),
        91..=94 => format!("docker exec -it {} sh -c \"{}\"", rng.fill("«word»«-app|-web|_db|»"), cmd.replace('"', "\\\"")),
        _ => format!(
            "{} {} sudo: {} : TTY=pts/{} ; PWD={} ; USER=root ; COMMAND={cmd}",
            rng.fill("«ts_syslog»"),
            rng.fill("«host»"),
            rng.fill("«user»"),
            rng.range(0, 5),
            rng.fill("«linux_dir»")
        ),
    }
}

fn windows_command(rng: &mut Rng, cmd: &str) -> String {
    let image = windows_image(cmd);
    match rng.below(100) {
        0..=44 => cmd.to_string(),
        45..=56 => format!(
            "Process Create: RuleName: - UtcTime: {} ProcessGuid: {{{}}} ProcessId: {} Image: {image} CommandLine: {cmd} CurrentDirectory: {} User: {} IntegrityLevel: {} ParentImage: {}",
            rng.fill("«ts_sql».«n99»«n9»"),
            rng.fill("«uuid»"),
            rng.fill("«pid»"),
            rng.fill("«C:\\Windows\\system32\\|«win_dir»\\»"),
            rng.fill("«winuser»"),
            rng.pick(&["Medium", "High", "System", "Medium"]),
            rng.pick(&["C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\System32\\services.exe", "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"])
        ),
        57..=66 => format!(
            "EventID=4688 {} Computer={} SubjectUserName={} NewProcessName={image} TokenElevationType=%%{} CommandLine=\"{}\"",
            rng.fill("TimeCreated=«ts_iso»"),
            rng.fill("«winhost».«domain»"),
            rng.fill("«user»"),
            rng.pick(&["1936", "1937", "1938"]),
            cmd.replace('"', "\"\"")
        ),
        67..=74 => json!({"@timestamp": rng.fill("«ts_iso_ms»"), "winlog": {"event_id": rng.pick(&["1", "4688"]), "channel": rng.pick(&["Microsoft-Windows-Sysmon/Operational", "Security"])},
                          "host": {"name": rng.fill("«winhost»")}, "process": {"executable": image, "command_line": cmd, "parent": {"executable": "C:\\Windows\\explorer.exe"}},
                          "user": {"name": rng.fill("«user»")}})
        .to_string(),
        75..=80 => format!(
            "A new process has been created. Creator Subject: Account Name: {} Account Domain: {} New Process Name: {image} Token Elevation Type: %%1936 Creator Process Name: {} Process Command Line: {cmd}",
            rng.fill("«user»"),
            rng.pick(&["CORP", "CONTOSO", "WORKGROUP", "NT AUTHORITY"]),
            rng.pick(&["C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\svchost.exe"])
        ),
        81..=88 => format!("{}> {cmd}", rng.fill("«C:\\Users\\«user»|C:\\Windows\\system32|PS C:\\Users\\«user»|PS C:\\|C:\\Temp»")),
        89..=94 => format!(
            "{} Microsoft-Windows-PowerShell/Operational 4104 Creating Scriptblock text (1 of 1): {cmd} ScriptBlock ID: {}",
            rng.fill("«ts_win»"),
            rng.fill("«uuid»")
        ),
        _ => format!("cmd.exe /c {cmd}"),
    }
}

/// Splits a command line on spaces outside quotes (close enough for auditd's argv).
fn split_args(cmd: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in cmd.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, ' ') => {
                if !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    args
}

fn first_word_path(cmd: &str) -> String {
    let first = cmd.split_whitespace().next().unwrap_or("sh");
    if first.starts_with('/') {
        first.to_string()
    } else {
        format!(
            "/usr/bin/{}",
            first.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.')
        )
    }
}

fn windows_image(cmd: &str) -> String {
    let first = cmd.split_whitespace().next().unwrap_or("cmd.exe").trim_matches('"');
    if first.contains('\\') {
        return first.to_string();
    }
    let lower = first.to_ascii_lowercase();
    if first.contains('-') && !first.contains('.') {
        // A cmdlet: PowerShell runs it.
        return "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe".to_string();
    }
    let exe = if lower.ends_with(".exe") { first.to_string() } else { format!("{first}.exe") };
    if lower.starts_with("powershell") {
        format!("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\{exe}")
    } else {
        format!("C:\\Windows\\System32\\{exe}")
    }
}

/// A syslog message from `program` in one of the shapes syslog daemons write.
pub fn syslog(rng: &mut Rng, program: &str, message: &str) -> String {
    let pid = rng.fill("«pid»");
    let host = rng.fill("«host»");
    match rng.below(10) {
        0..=5 => format!("{} {host} {program}[{pid}]: {message}", rng.fill("«ts_syslog»")),
        6 => format!(
            "<{}>1 {} {host} {program} {pid} - - {message}",
            rng.pick(&["38", "86", "34", "13", "30"]),
            rng.fill("«ts_iso_ms»")
        ),
        7 => format!("{} {host} {program}[{pid}]: {message}", rng.fill("«ts_iso_ms»")),
        8 => format!("{program}[{pid}]: {message}"),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_keep_the_payload_recognisable() {
        let mut rng = Rng::new(11);
        let payload = "abc123xyz";
        for _ in 0..300 {
            let t = web_value(&mut rng, payload, Some("Test rule"));
            assert!(t.contains(payload) || t.to_lowercase().contains("%61%62%63") || t.contains("%2561"), "{t}");
            let c = command(&mut rng, "curl -s http://x/a", Os::Linux);
            assert!(c.contains("curl") || c.contains("a0=\"curl\""), "{c}");
            let w = command(&mut rng, "whoami /all", Os::Windows);
            assert!(w.contains("whoami"), "{w}");
        }
    }

    #[test]
    fn argv_splitting_respects_quotes() {
        assert_eq!(split_args("sh -c 'id; uname -a'"), vec!["sh", "-c", "id; uname -a"]);
        assert_eq!(
            windows_image("powershell -enc x"),
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
        );
    }
}
