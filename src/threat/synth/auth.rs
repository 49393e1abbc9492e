//! Authentication: failed logins of every service (brute force, password spraying, credential
//! stuffing, the tools that do it and the alerts they raise), and their benign twins, the
//! successful logins and session lines written by the same daemons in the same formats.
//!
//! As in the shared training data, a single sshd `Failed password` or `Invalid user` line is
//! brute force: one failure is how every guessing run looks line by line.

use super::context::{self, syslog, Os};
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "bf_sshd", label: ThreatType::BruteForce, weight: 30, make: bf_sshd },
    Generator { name: "bf_services", label: ThreatType::BruteForce, weight: 20, make: bf_services },
    Generator { name: "bf_windows", label: ThreatType::BruteForce, weight: 14, make: bf_windows },
    Generator { name: "bf_cloud", label: ThreatType::BruteForce, weight: 7, make: bf_cloud },
    Generator { name: "bf_alerts", label: ThreatType::BruteForce, weight: 10, make: bf_alerts },
    Generator { name: "bf_tool", label: ThreatType::BruteForce, weight: 12, make: bf_tool },
    Generator { name: "bf_web", label: ThreatType::BruteForce, weight: 8, make: bf_web },
    Generator { name: "auth_ok_unix", label: ThreatType::Benign, weight: 30, make: auth_ok_unix },
    Generator { name: "auth_ok_windows", label: ThreatType::Benign, weight: 14, make: auth_ok_windows },
    Generator { name: "auth_ok_services", label: ThreatType::Benign, weight: 14, make: auth_ok_services },
];

/// Names guessing runs try, beyond the usual accounts.
const GUESSED_USERS: &[&str] = &[
    "root",
    "admin",
    "test",
    "user",
    "oracle",
    "postgres",
    "guest",
    "ubuntu",
    "pi",
    "support",
    "ftpuser",
    "git",
    "mysql",
    "usuario",
    "administrator",
    "Admin",
    "1234",
    "default",
    "tomcat",
    "nagios",
    "hadoop",
    "user1",
    "testuser",
    "demo",
    "www",
    "operator",
    "manager",
    "service",
    "backup",
    "office",
    "temp",
    "ts3",
    "minecraft",
    "teamspeak",
    "zabbix",
    "deploy",
    "jenkins",
    "sysadmin",
    "webadmin",
    "student",
    "info",
    "sales",
    "vbox",
];

fn guessed(rng: &mut Rng) -> String {
    if rng.chance(70) {
        rng.pick(GUESSED_USERS).to_string()
    } else {
        rng.fill("«user»")
    }
}

fn bf_sshd(rng: &mut Rng) -> String {
    let user = guessed(rng);
    let ip = rng.fill("««pub_ip»|«pub_ip»|«ip»»");
    let port = rng.fill("«hiport»");
    let msg = match rng.below(20) {
        16 => format!("input_userauth_request: invalid user {user} [preauth]"),
        17 => format!(
            "reverse mapping checking getaddrinfo for {} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
            rng.fill(
                "««alnum».«evil_domain»|static-«n99»-«n99».«domain»|customer-«n99»-«n99»-«n99».«pub_ip».in-addr.arpa»"
            )
        ),
        18 => format!("PAM service(sshd) ignoring max retries; {} > 3", rng.range(4, 9)),
        19 => "pam_unix(sshd:auth): check pass; user unknown".to_string(),
        0..=3 => format!("Failed password for {user} from {ip} port {port} ssh2"),
        4..=6 => format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
        7..=8 => format!("Invalid user {user} from {ip}{}", rng.fill("« port «hiport»|»")),
        9 => format!(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"
        ),
        10 => format!(
            "PAM {} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
            rng.range(1, 5)
        ),
        11 => {
            format!("error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2 [preauth]")
        }
        12 => format!(
            "Disconnecting authenticating user {user} {ip} port {port}: Too many authentication failures [preauth]"
        ),
        13 => format!(
            "message repeated {} times: [ Failed password for {user} from {ip} port {port} ssh2]",
            rng.range(2, 9)
        ),
        14 => format!("Connection closed by invalid user {user} {ip} port {port} [preauth]"),
        _ => format!(
            "Failed {} for {user} from {ip} port {port} ssh2",
            rng.pick(&["keyboard-interactive/pam", "publickey", "none"])
        ),
    };
    syslog(rng, "sshd", &msg)
}

fn bf_services(rng: &mut Rng) -> String {
    let user = guessed(rng);
    let ip = rng.fill("«pub_ip»");
    let (program, msg) = match rng.below(14) {
        0 => ("vsftpd", format!("[{user}] FAIL LOGIN: Client \"{ip}\"")),
        1 => ("proftpd", format!("{} ({ip}[{ip}]) - USER {user} (Login failed): Incorrect password", rng.fill("«host»"))),
        2 => ("pure-ftpd", format!("(?@{ip}) [WARNING] Authentication failed for user [{user}]")),
        3 => ("dovecot", format!("imap-login: Disconnected (auth failed, {} attempts in {} secs): user=<{user}>, method=PLAIN, rip={ip}, lip={}, TLS", rng.range(1, 6), rng.range(2, 30), rng.fill("«priv_ip»"))),
        4 => ("postfix/smtpd", format!("warning: unknown[{ip}]: SASL LOGIN authentication failed: {}", rng.pick(&["UGFzc3dvcmQ6", "authentication failure", "Invalid authentication mechanism"]))),
        5 => ("mysqld", format!("[Warning] Access denied for user '{user}'@'{ip}' (using password: YES)")),
        6 => ("postgres", format!("{} [{}] FATAL:  password authentication failed for user \"{user}\"", rng.fill("«ts_sql».«n99»«n9» UTC"), rng.fill("«pid»"))),
        7 => ("xrdp-sesman", format!("pam_authenticate failed: Authentication failure; login failed for user {user} from {ip}")),
        8 => ("vncserver", format!("Authentication failed from {ip}")),
        9 => ("asterisk", format!("NOTICE[{}]: chan_sip.c: Registration from '\"{}\" <sip:{}@{}>' failed for '{ip}:5060' - Wrong password", rng.fill("«pid»"), rng.range(100, 999), rng.range(100, 999), rng.fill("«priv_ip»"))),
        10 => ("", format!("%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: {user}] [Source: {ip}] [localport: {}] [Reason: Login Authentication Failed] at {}", rng.pick(&["22", "23"]), rng.fill("«time» UTC «weekday» «month» «n31» «year»"))),
        11 => ("login", format!("FAILED LOGIN {} FROM {ip} FOR {user}, Authentication failure", rng.range(1, 5))),
        12 => ("su", format!("pam_unix(su:auth): authentication failure; logname={} uid=1000 euid=0 tty=pts/{} ruser={} rhost=  user=root", rng.fill("«user»"), rng.range(0, 4), rng.fill("«user»"))),
        _ => ("sshd", "pam_unix(sshd:auth): check pass; user unknown".to_string()),
    };
    if program.is_empty() {
        return msg;
    }
    if program == "mysqld" && rng.chance(50) {
        return format!(
            "{} {} [Note] [MY-010926] Access denied for user '{user}'@'{ip}' (using password: YES)",
            rng.fill("«ts_iso»"),
            rng.range(5, 99)
        );
    }
    syslog(rng, program, &msg)
}

fn bf_windows(rng: &mut Rng) -> String {
    let user = guessed(rng);
    let ip = rng.fill("«ip»");
    let host = rng.fill("«winhost»");
    let logon_type = rng.pick(&["3", "10", "3", "8", "2"]);
    let (status, sub) = *[
        ("0xC000006D", "0xC000006A"),
        ("0xC000006D", "0xC0000064"),
        ("0xC000006D", "0xC000006A"),
        ("0xC0000234", "0x0"),
    ]
    .get(rng.below(4))
    .unwrap_or(&("0xC000006D", "0xC000006A"));
    let reason = if sub == "0xC0000064" {
        "Unknown user name or bad password."
    } else {
        rng.pick(&["Unknown user name or bad password.", "Unknown user name or bad password.", "Account locked out."])
    };
    match rng.below(9) {
        0..=2 => format!(
            "An account failed to log on. Subject: Security ID: NULL SID Account Name: - Logon Type: {logon_type} Account For Which Logon Failed: Security ID: NULL SID Account Name: {user} Account Domain: {} Failure Information: Failure Reason: {reason} Status: {status} Sub Status: {sub} Network Information: Workstation Name: {} Source Network Address: {ip} Source Port: {}",
            rng.pick(&["CORP", "WORKGROUP", "", "CONTOSO"]),
            rng.pick(&["-", "kali", "WIN-R2D2", "DESKTOP-ATTACK", "WORKSTATION"]),
            rng.fill("«hiport»")
        ),
        3..=4 => format!("EventID=4625 Computer={host} TargetUserName={user} IpAddress={ip} LogonType={logon_type} Status={status} SubStatus={sub} WorkstationName=- AuthenticationPackageName=NTLM"),
        5 => json!({"EventID": 4625, "Channel": "Security", "Computer": host, "EventData": {"TargetUserName": user, "IpAddress": ip, "LogonType": logon_type, "FailureReason": "%%2313", "Status": status}}).to_string(),
        6 => format!("{} Microsoft-Windows-Security-Auditing 4771 Kerberos pre-authentication failed. Account Name: {user} Service Name: krbtgt/CORP Client Address: ::ffff:{ip} Failure Code: 0x18", rng.fill("«ts_win»")),
        7 => format!("{} Microsoft-Windows-Security-Auditing 4776 The computer attempted to validate the credentials for an account. Logon Account: {user} Source Workstation: {} Error Code: 0xC000006A", rng.fill("«ts_win»"), rng.pick(&["kali", "WORKSTATION", "-", "DESKTOP-1"])),
        _ => format!("{} 4740 A user account was locked out. Account That Was Locked Out: Account Name: {user} Caller Computer Name: {}", rng.fill("«ts_win»"), rng.fill("«winhost»")),
    }
}

fn bf_cloud(rng: &mut Rng) -> String {
    let upn = rng.fill("«user»@«domain»");
    let ip = rng.fill("«pub_ip»");
    match rng.below(4) {
        0 => json!({"time": rng.fill("«ts_iso»"), "operationName": "Sign-in activity", "resultType": rng.pick(&["50126", "50053", "50126"]),
                    "resultDescription": rng.pick(&["Invalid username or password or Invalid on-premise username or password.", "Account is locked because user tried to sign in too many times with an incorrect user ID or password."]),
                    "properties": {"userPrincipalName": upn, "ipAddress": ip, "appDisplayName": rng.pick(&["Office 365 Exchange Online", "Azure Portal", "Microsoft Authentication Broker"]), "clientAppUsed": rng.pick(&["IMAP4", "Exchange ActiveSync", "Browser", "Authenticated SMTP"])}}).to_string(),
        1 => json!({"eventType": "user.session.start", "outcome": {"result": "FAILURE", "reason": rng.pick(&["INVALID_CREDENTIALS", "VERIFICATION_ERROR", "LOCKED_OUT"])}, "actor": {"alternateId": upn}, "client": {"ipAddress": ip}, "displayMessage": "User login to Okta"}).to_string(),
        2 => json!({"eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com", "sourceIPAddress": ip, "userIdentity": {"type": "IAMUser", "userName": rng.fill("«user»")}, "responseElements": {"ConsoleLogin": "Failure"}, "errorMessage": "Failed authentication"}).to_string(),
        _ => format!("{} auth: password spray suspected: {} distinct accounts failed from {ip} in {} minutes (e.g. {upn})", rng.fill("«ts_iso»"), rng.range(10, 400), rng.range(1, 30)),
    }
}

fn bf_alerts(rng: &mut Rng) -> String {
    let ip = rng.fill("«pub_ip»");
    let jail = rng.pick(&[
        "sshd",
        "sshd",
        "postfix-sasl",
        "dovecot",
        "nginx-http-auth",
        "wordpress",
        "vsftpd",
        "recidive",
        "asterisk",
    ]);
    match rng.below(8) {
        0..=1 => format!("{} fail2ban.actions        [{}]: NOTICE  [{jail}] Ban {ip}", rng.fill("«ts_java»"), rng.fill("«pid»")),
        2 => format!("{} fail2ban.filter         [{}]: INFO    [{jail}] Found {ip} - {}", rng.fill("«ts_java»"), rng.fill("«pid»"), rng.fill("«ts_sql»")),
        3 => format!("{} [**] [1:{}:{}] {} [**] [Classification: Attempted Information Leak] [Priority: 2] {{TCP}} {ip}:{} -> {}:{}", rng.fill("«ts_syslog»"), rng.range(2_001_000, 2_030_000), rng.range(1, 9), rng.pick(&["ET SCAN Potential SSH Brute Force Attempt", "ET POLICY Possible RDP Brute Force", "GPL FTP Excessive login failures", "ET SCAN LibSSH Based Frequent SSH Connections Likely BruteForce Attack", "ET WEB_SERVER WordPress Login Bruteforcing Detected"]), rng.fill("«hiport»"), rng.fill("«priv_ip»"), rng.pick(&["22", "3389", "21", "443"])),
        4 => format!("{} sshguard[{}]: Blocking \"{ip}/32\" for {} secs ({} attacks in {} secs, after 1 abuses over {} secs.)", rng.fill("«ts_syslog»"), rng.fill("«pid»"), rng.range(120, 1200), rng.range(4, 30), rng.range(5, 200), rng.range(5, 200)),
        5 => format!("{} {} failed login attempts for user '{}' from {ip} in the last {} seconds", rng.fill("«ts_iso»"), rng.range(5, 900), guessed(rng), rng.range(10, 600)),
        6 => json!({"rule": {"id": rng.pick(&["5712", "5763", "18152", "31151"]), "level": 10, "description": rng.pick(&["sshd: brute force trying to get access to the system. Non existent user.", "Multiple Windows logon failures.", "Multiple web server 400 error codes from same source ip.", "sshd: Multiple authentication failures."])}, "data": {"srcip": ip, "dstuser": guessed(rng)}, "agent": {"name": rng.fill("«host»")}}).to_string(),
        _ => format!("{} wordfence: Blocked for too many failed logins (Attempted login with username \"{}\") from {ip}", rng.fill("«ts_iso»"), guessed(rng)),
    }
}

fn bf_tool(rng: &mut Rng) -> String {
    let ip = rng.fill("«ip»");
    let wordlist = rng.fill("«/usr/share/wordlists/rockyou.txt|rockyou.txt|passwords.txt|/opt/SecLists/Passwords/«Common-Credentials/10k-most-common.txt|darkweb2017-top1000.txt»|pass.lst|top100.txt|wordlist.txt»");
    let users = rng.fill("«users.txt|usernames.lst|/usr/share/wordlists/users.txt|names.txt»");
    let user = guessed(rng);
    let cmd = match rng.below(14) {
        0 => format!("hydra -l {user} -P {wordlist} {}://{ip}", rng.pick(&["ssh", "ftp", "rdp", "smb", "mysql", "telnet", "vnc", "pop3", "imap"])),
        1 => format!("hydra -L {users} -P {wordlist} -t {} {ip} {}", rng.range(4, 64), rng.pick(&["ssh", "ftp", "http-post-form \"/login.php:user=^USER^&pass=^PASS^:F=incorrect\"", "rdp"])),
        2 => format!("medusa -h {ip} -u {user} -P {wordlist} -M {}", rng.pick(&["ssh", "ftp", "mysql", "rdp", "smbnt"])),
        3 => format!("ncrack -p {} --user {user} -P {wordlist} {ip}", rng.pick(&["22", "3389", "21", "ssh:22"])),
        4 => format!("patator ssh_login host={ip} user={user} password=FILE0 0={wordlist} -x ignore:mesg='Authentication failed.'"),
        5 => format!("crackmapexec smb {ip} -u {users} -p '{}' --continue-on-success", rng.fill("«Winter2024!|Spring2025!|Password1|Welcome1|Company123!»")),
        6 => format!("kerbrute passwordspray -d {} {users} '{}'", rng.fill("«domain»"), rng.fill("«Summer2024!|Passw0rd|Welcome123»")),
        7 => format!("hashcat -m {} -a 0 {} {wordlist}", rng.pick(&["1000", "0", "1800", "5600", "13100", "22000", "3200"]), rng.pick(&["hashes.txt", "ntlm.hash", "kerberoast.txt", "shadow.txt"])),
        8 => format!("john --wordlist={wordlist} {}", rng.pick(&["hashes.txt", "shadow.txt", "unshadowed.txt", "--format=nt ntlm.txt"])),
        9 => format!("wpscan --url http://{ip}/ --passwords {wordlist} --usernames {user}"),
        10 => format!("nmap -p 22 --script ssh-brute --script-args userdb={users},passdb={wordlist} {ip}"),
        11 => format!("Hydra v9.{} (c) 2023 by van Hauser/THC & David Maciejak - Please do not use in military or secret service organizations, or for illegal purposes. [DATA] attacking ssh://{ip}:22/", rng.range(0, 5)),
        12 => format!("[22][ssh] host: {ip}   login: {user}   password: {}", rng.fill("«123456|password|admin|toor|«word»123»")),
        _ => format!("spray.sh -owa {ip} {users} {wordlist} 1 35 {}", rng.fill("«domain»")),
    };
    if rng.chance(30) && !cmd.starts_with('[') && !cmd.starts_with("Hydra v") {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

fn bf_web(rng: &mut Rng) -> String {
    let ip = rng.fill("«pub_ip»");
    match rng.below(5) {
        0 => format!("{ip} - - [{}] \"POST {} HTTP/1.1\" {} {} \"-\" \"{}\"", rng.fill("«ts_apache»"), rng.pick(&["/wp-login.php", "/xmlrpc.php", "/user/login", "/administrator/index.php", "/login", "/api/auth/login", "/admin/login.php", "/owa/auth.owa", "/remote/logincheck"]), rng.pick(&["200", "401", "403", "429"]), rng.range(200, 9000), rng.pick(&["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:62.0) Gecko/20100101 Firefox/62.0", "python-requests/2.25.1", "Go-http-client/1.1", "curl/7.68.0", "Hydra", "WordPress/5.9"])),
        1 => "<?xml version=\"1.0\"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>".to_string() + &(0..rng.range(2, 5)).map(|_| rng.fill("<value><struct><member><name>methodName</name><value><string>wp.getUsersBlogs</string></value></member><member><name>params</name><value><array><data><value><string>«user»</string></value><value><string>«word»«n99»</string></value></data></array></value></member></struct></value>")).collect::<String>(),
        2 => json!({"ts": rng.fill("«ts_iso»"), "event": "login_failed", "username": guessed(rng), "ip": ip, "attempt": rng.range(3, 500), "reason": rng.pick(&["invalid_password", "unknown_user", "invalid_credentials"])}).to_string(),
        3 => format!("{} WARN  [auth] Authentication failed for user '{}' from {ip} ({} failures in {}s)", rng.fill("«ts_java»"), guessed(rng), rng.range(3, 200), rng.range(10, 300)),
        _ => format!("{} [error] {}#0: *{} user \"{}\": password mismatch, client: {ip}, server: {}, request: \"GET /admin/ HTTP/1.1\"", rng.fill("«ts_nginx»"), rng.fill("«pid»"), rng.fill("«num»"), guessed(rng), rng.fill("«fqdn»")),
    }
}

// ---------------------------------------------------------------- benign twins

fn auth_ok_unix(rng: &mut Rng) -> String {
    let user = rng.fill("«user»");
    let ip = rng.fill("«ip»");
    let port = rng.fill("«hiport»");
    let (program, msg) = match rng.below(14) {
        0..=2 => (
            "sshd",
            format!(
                "Accepted publickey for {user} from {ip} port {port} ssh2: {} SHA256:{}",
                rng.pick(&["RSA", "ED25519", "ECDSA"]),
                rng.fill("«hex16»«hex16»")
            ),
        ),
        3..=4 => ("sshd", format!("Accepted password for {user} from {ip} port {port} ssh2")),
        5 => (
            "sshd",
            format!("pam_unix(sshd:session): session opened for user {user}(uid={}) by (uid=0)", rng.range(1000, 1100)),
        ),
        6 => ("sshd", format!("pam_unix(sshd:session): session closed for user {user}")),
        7 => ("sshd", format!("Disconnected from user {user} {ip} port {port}")),
        8 => ("sshd", format!("Received disconnect from {ip} port {port}:11: disconnected by user")),
        9 => ("systemd-logind", format!("New session {} of user {user}.", rng.range(1, 9999))),
        10 => ("sshd", format!("Server listening on {} port 22.", rng.pick(&["0.0.0.0", "::"]))),
        11 => (
            "sudo",
            format!(
                "pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={})",
                rng.range(1000, 1100)
            ),
        ),
        12 => ("login", format!("pam_unix(login:session): session opened for user {user} by LOGIN(uid=0)")),
        _ => (
            "su",
            format!("(to {}) {user} on pts/{}", rng.pick(&["postgres", "www-data", "oracle", "root"]), rng.range(0, 5)),
        ),
    };
    syslog(rng, program, &msg)
}

fn auth_ok_windows(rng: &mut Rng) -> String {
    let user = rng.fill("«user»");
    let host = rng.fill("«winhost»");
    match rng.below(7) {
        0..=1 => format!(
            "An account was successfully logged on. Subject: Security ID: SYSTEM Account Name: {host}$ Logon Information: Logon Type: {} Restricted Admin Mode: - New Logon: Account Name: {user} Account Domain: {} Logon ID: 0x{} Network Information: Workstation Name: {host} Source Network Address: {} Source Port: 0 Detailed Authentication Information: Logon Process: {} Authentication Package: {}",
            rng.pick(&["2", "3", "5", "7", "10", "11"]),
            rng.pick(&["CORP", "CONTOSO", "NT AUTHORITY"]),
            rng.fill("«hex8»"),
            rng.fill("«priv_ip»"),
            rng.pick(&["User32", "Kerberos", "NtLmSsp", "Advapi"]),
            rng.pick(&["Negotiate", "Kerberos", "NTLM"])
        ),
        2 => format!("EventID=4624 Computer={host}.{} TargetUserName={user} LogonType={} IpAddress={} AuthenticationPackageName=Kerberos", rng.fill("«domain»"), rng.pick(&["2", "3", "10"]), rng.fill("«priv_ip»")),
        3 => format!("{} 4634 An account was logged off. Account Name: {user} Account Domain: CORP Logon Type: {}", rng.fill("«ts_win»"), rng.pick(&["3", "2", "10"])),
        4 => format!("{} 4672 Special privileges assigned to new logon. Account Name: {} Account Domain: NT AUTHORITY Privileges: SeAssignPrimaryTokenPrivilege SeAuditPrivilege SeImpersonatePrivilege", rng.fill("«ts_win»"), rng.pick(&["SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE"])),
        5 => json!({"EventID": 4624, "Channel": "Security", "Computer": host, "EventData": {"TargetUserName": user, "LogonType": "2", "LogonProcessName": "User32", "IpAddress": "127.0.0.1"}}).to_string(),
        _ => format!("{} 4648 A logon was attempted using explicit credentials. Account Name: {user} Target Server Name: {} Process Name: C:\\Windows\\System32\\svchost.exe", rng.fill("«ts_win»"), rng.fill("«fqdn»")),
    }
}

fn auth_ok_services(rng: &mut Rng) -> String {
    let user = rng.fill("«user»");
    let ip = rng.fill("«ip»");
    match rng.below(9) {
        0 => { let message = format!("imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip={}, mpid={}, TLS, session=<{}>", rng.fill("«priv_ip»"), rng.fill("«pid»"), rng.fill("«hex16»")); syslog(rng, "dovecot", &message) },
        1 => syslog(rng, "vsftpd", &format!("[{user}] OK LOGIN: Client \"{ip}\"")),
        2 => { let message = format!("{}: client=unknown[{ip}], sasl_method=LOGIN, sasl_username={user}", rng.fill("«hex8»").to_uppercase()); syslog(rng, "postfix/smtpd", &message) },
        3 => format!("{}\t{} Connect\t{user}@{ip} on {} using TCP/IP", rng.fill("«ts_iso»"), rng.range(3, 9000), rng.fill("«word»")),
        4 => json!({"time": rng.fill("«ts_iso»"), "operationName": "Sign-in activity", "resultType": "0", "properties": {"userPrincipalName": rng.fill("«email»"), "ipAddress": ip, "appDisplayName": rng.pick(&["Microsoft Teams", "Office 365 Exchange Online", "OneDrive SyncEngine"]), "status": {"errorCode": 0}}}).to_string(),
        5 => json!({"ts": rng.fill("«ts_iso»"), "event": "login_success", "username": user, "ip": ip, "mfa": rng.pick(&["totp", "push", "webauthn"])}).to_string(),
        6 => format!("{} INFO  [auth] User '{user}' logged in successfully from {ip}", rng.fill("«ts_java»")),
        7 => json!({"eventName": "ConsoleLogin", "sourceIPAddress": ip, "userIdentity": {"type": "IAMUser", "userName": user}, "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "Yes"}}).to_string(),
        _ => format!("{} fail2ban.jail           [{}]: INFO    Jail '{}' started", rng.fill("«ts_java»"), rng.fill("«pid»"), rng.pick(&["sshd", "nginx-http-auth", "postfix"])),
    }
}
