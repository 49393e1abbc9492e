//! Reconnaissance and discovery: scanner command lines (nmap, masscan, web fuzzers, SMB/LDAP/SNMP
//! enumeration), their traces in web logs (scanner user agents, probes of `/.git/`, `/.env`,
//! `/wp-admin/`), host and Active Directory discovery commands (alone and chained the way
//! intrusion scripts run them), and port-scan lines of firewalls and IDSs.

use super::context::{self, Os};
use super::encode;
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "recon_scanner", label: ThreatType::Reconnaissance, weight: 20, make: recon_scanner },
    Generator { name: "recon_web_probe", label: ThreatType::Reconnaissance, weight: 22, make: recon_web_probe },
    Generator { name: "recon_windows", label: ThreatType::Reconnaissance, weight: 20, make: recon_windows },
    Generator { name: "recon_unix", label: ThreatType::Reconnaissance, weight: 12, make: recon_unix },
    Generator { name: "recon_ad", label: ThreatType::Reconnaissance, weight: 12, make: recon_ad },
    Generator { name: "recon_netlog", label: ThreatType::Reconnaissance, weight: 14, make: recon_netlog },
];

const SCANNERS: &[&str] = &[
    "nmap -sS -sV -p- -T4 «target»",
    "nmap -sC -sV -oA «word» «target»",
    "nmap -Pn --script «vuln|smb-vuln*|http-enum|ssl-enum-ciphers|smb-os-discovery|ldap-rootdse|dns-brute|banner» «target»",
    "nmap -sU --top-ports «n99»0 «target»",
    "nmap -A -T«n9» «target»",
    "nmap -sn «subnet»",
    "nmap -p «22,80,443|445,139|1-1024|3389|21-25,80,443,8080|6379,27017,9200» --open «subnet»",
    "nmap -O -sV --version-intensity 5 «target»",
    "sudo nmap -sS -f --data-length 24 -D RND:10 «target»",
    "masscan -p1-65535 «subnet» --rate=«n99»000",
    "masscan «subnet» -p«80,443,8080|22|3389|445» --banners -oL scan.txt",
    "zmap -p «443|80|22» -o results.csv «subnet»",
    "nikto -h http«s|»://«target»«| -C all| -Tuning 123bde»",
    "gobuster dir -u http«s|»://«target»/ -w /usr/share/wordlists/dirb/«common|big».txt«| -x php,txt,html| -t 50»",
    "gobuster dns -d «domain» -w subdomains-top1million-5000.txt",
    "dirb http://«target»/ /usr/share/wordlists/dirb/common.txt",
    "dirsearch -u https://«target»/ -e «php,asp,aspx|*»",
    "ffuf -u http«s|»://«target»/FUZZ -w «/usr/share/seclists/Discovery/Web-Content/raft-medium-directories.txt|wordlist.txt»«| -mc 200,301,403| -fc 404»",
    "ffuf -w subdomains.txt -u https://FUZZ.«domain»",
    "wfuzz -c -z file,/usr/share/wfuzz/wordlist/general/common.txt --hc 404 http://«target»/FUZZ",
    "feroxbuster -u http://«target» -w raft-small-words.txt",
    "whatweb -a 3 «target»",
    "wpscan --url http://«target»/ --enumerate «u,vp,vt|ap|u»",
    "nuclei -u https://«target» -t «cves/|exposures/|technologies/»",
    "enum4linux -a «target»",
    "smbclient -L //«target» -N",
    "smbmap -H «target» -u null",
    "rpcclient -U \"\" -N «target»",
    "crackmapexec smb «subnet» --shares",
    "snmpwalk -v2c -c public «target»",
    "onesixtyone -c community.txt «target»",
    "dnsrecon -d «domain» -t axfr",
    "dig axfr @ns1.«domain» «domain»",
    "host -l «domain» ns1.«domain»",
    "amass enum -passive -d «domain»",
    "subfinder -d «domain» -silent",
    "theHarvester -d «domain» -b «all|google,bing,linkedin»",
    "fierce --domain «domain»",
    "arp-scan -l",
    "netdiscover -r «subnet»",
    "unicornscan -mT «target»:a",
    "sslscan «target»:443",
    "testssl.sh https://«target»",
    "httpx -l hosts.txt -title -tech-detect -status-code",
    "naabu -host «target» -top-ports 1000",
    "rustscan -a «target» -- -sV",
    "Invoke-Portscan -Hosts «subnet» -TopPorts 50",
    "1..1024 | % {echo ((New-Object Net.Sockets.TcpClient).Connect(\"«target»\",$_)) \"Port $_ is open!\"} 2>$null",
    "for i in $(seq 1 254); do ping -c 1 -W 1 «subnet_prefix».$i | grep 'bytes from'; done",
    "for /L %i in (1,1,254) do @ping -n 1 -w 100 «subnet_prefix».%i | find \"TTL=\"",
    "nc -zv «target» 1-1000",
    "nc -nvz «target» 20-«n99»00 2>&1 | grep succeeded",
    "hping3 -S -p ++«n99» «target»",
    "ike-scan «target»",
    "ldapsearch -x -H ldap://«target» -s base namingcontexts",
    "showmount -e «target»",
    "nbtscan «subnet»",
    "shodan search «org:\"«company»\"|hostname:«domain»|port:3389 country:«US|DE»»",
];

/// Slots the scanners use.
fn target(rng: &mut Rng) -> String {
    rng.fill("««ip»|«ip»|«fqdn»|«domain»|«priv_ip»»")
}

fn fill_recon(rng: &mut Rng, templates: &[&str]) -> String {
    let t = rng.pick(templates);
    let subnet = rng.fill("«10.«n99».«n99».0/24|192.168.«n99».0/24|172.16.0.0/16|10.0.0.0/8|«pub_ip»/24»");
    let prefix = rng.fill("«10.0.«n9»|192.168.«n99»|172.16.«n31»»");
    let company = rng.fill("«Acme Corp|Contoso|Globex|Initech»");
    let mut out = String::new();
    // Each «target» gets its own draw.
    for (i, piece) in t.split("«target»").enumerate() {
        if i > 0 {
            out.push_str(&target(rng));
        }
        out.push_str(piece);
    }
    let out = out.replace("«subnet_prefix»", &prefix).replace("«subnet»", &subnet).replace("«company»", &company);
    rng.fill(&out)
}

fn recon_scanner(rng: &mut Rng) -> String {
    let cmd = fill_recon(rng, SCANNERS);
    let windows = cmd.contains("Invoke-") || cmd.contains("%i") || cmd.contains("New-Object");
    if rng.chance(35) {
        context::command(rng, &cmd, if windows { Os::Windows } else { Os::Linux })
    } else {
        cmd
    }
}

const SCANNER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "Mozilla/5.00 (Nikto/2.«1.6|5.0») (Evasions:None) (Test:«num»)",
    "gobuster/3.«n9».0", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "zgrab/0.x",
    "Mozilla/5.0 zgrab/0.x", "WPScan v3.8.«n31» (https://wpscan.com/wordpress-security-scanner)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/«n120».0.0.0 Safari/537.36 (Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
    "Wfuzz/«2.4|3.1»", "Fuzz Faster U Fool v«1.5.0|2.1.0»", "feroxbuster/2.«n9».0", "sqlmap/1.«n9».«n9»#stable (https://sqlmap.org)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", "Expanse, a Palo Alto Networks company, searches across the global IPv4 space multiple times per day",
    "Mozilla/5.0 (compatible; NetcraftSurveyAgent/1.0)", "python-requests/2.«n31».0", "Go-http-client/1.1", "curl/7.«n99».0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:«n120».0) Gecko/20100101 Firefox/«n120».0", "WhatWeb/0.5.«n9»", "Acunetix-Product", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
    "l9explore/1.2.2", "Hello, World", "HTTP Banner Detection (https://security.ipip.net)", "-", "ALittle Client", "xfa1",
];
const PROBE_PATHS: &[&str] = &[
    "/.git/config",
    "/.git/HEAD",
    "/.env",
    "/.env.production",
    "/wp-admin/",
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/phpmyadmin/",
    "/pma/",
    "/myadmin/index.php",
    "/admin/",
    "/administrator/",
    "/server-status",
    "/server-info",
    "/.DS_Store",
    "/backup.zip",
    "/backup.sql",
    "/db.sql",
    "/dump.sql.gz",
    "/actuator/env",
    "/actuator/health",
    "/actuator/heapdump",
    "/cgi-bin/test-cgi",
    "/HNAP1/",
    "/.aws/credentials",
    "/config.json",
    "/web.config",
    "/manager/html",
    "/solr/admin/info/system",
    "/boaform/admin/formLogin",
    "/owa/auth/logon.aspx",
    "/.svn/entries",
    "/.htpasswd",
    "/.well-known/security.txt",
    "/sitemap.xml",
    "/api/v1/swagger.json",
    "/swagger-ui.html",
    "/v2/api-docs",
    "/console/",
    "/jenkins/script",
    "/telescope/requests",
    "/_profiler/phpinfo",
    "/phpinfo.php",
    "/info.php",
    "/test.php",
    "/.vscode/sftp.json",
    "/config.php.bak",
    "/wp-config.php.bak",
    "/.bash_history",
    "/id_rsa",
    "/debug/pprof/",
    "/metrics",
    "/graphql?query={__schema{types{name}}}",
    "/.gitlab-ci.yml",
    "/docker-compose.yml",
    "/Dockerfile",
    "/.npmrc",
    "/composer.json",
    "/package.json",
    "/xmlrpc.php",
    "/remote/fgt_lang?lang=/../../../..//////////dev/",
    "/autodiscover/autodiscover.xml",
    "/ecp/",
    "/vpn/index.html",
    "/global-protect/login.esp",
    "/dana-na/",
    "/sslvpn/",
    "/nice ports,/Trinity.txt.bak",
    "/«alnum»«n99».php",
    "/admin.php",
    "/login.action",
    "/struts2-showcase/",
    "/jmx-console/",
    "/invoker/JMXInvokerServlet",
    "/CFIDE/administrator/",
    "/webdav/",
    "/cgi-bin/luci",
    "/shell",
    "/.well-known/openid-configuration",
];

fn recon_web_probe(rng: &mut Rng) -> String {
    let ip = rng.fill("«pub_ip»");
    let ua = rng.fill_one(SCANNER_AGENTS);
    let path = rng.fill_one(PROBE_PATHS);
    let status = rng.pick(&["404", "404", "404", "403", "200", "301", "400", "401"]);
    let method = rng.pick(&["GET", "GET", "GET", "HEAD", "POST", "OPTIONS", "PROPFIND"]);
    match rng.below(10) {
        0..=4 => format!("{ip} - - [{}] \"{method} {path} HTTP/1.1\" {status} {} \"-\" \"{ua}\"", rng.fill("«ts_apache»"), rng.range(0, 2000)),
        5 => format!("{} {} {method} {path} - 443 - {ip} {} - {status} 0 2 {}", rng.fill("«date» «time»"), rng.fill("«priv_ip»"), ua.replace(' ', "+"), rng.range(1, 300)),
        6 => json!({"time": rng.fill("«ts_iso»"), "remote_addr": ip, "request": format!("{method} {path} HTTP/1.1"), "status": status.parse::<u16>().unwrap_or(404), "http_user_agent": ua}).to_string(),
        7 => format!("{} web: {} requests from {ip} in {}s, {}% 404 (paths like {path}) - likely content discovery scan", rng.fill("«ts_iso»"), rng.range(200, 50000), rng.range(10, 600), rng.range(60, 99)),
        8 => format!("{} [**] [1:{}:{}] {} [**] [Classification: {}] [Priority: 2] {{TCP}} {ip}:{} -> {}:{}", rng.fill("«ts_syslog»"), rng.range(2_000_000, 2_040_000), rng.range(1, 9), rng.fill("«ET SCAN Nmap Scripting Engine User-Agent Detected (Nmap Scripting Engine)|ET SCAN Nikto Web App Scan in Progress|ET SCAN Possible Nmap User-Agent Observed|ET SCAN Sqlmap SQL Injection Scan|ET SCAN Suspicious inbound to mySQL port 3306|ET SCAN Potential VNC Scan 5900-5920|ET SCAN Zmap User-Agent (Inbound)|ET SCAN Wfuzz Web Fuzzer|GPL SCAN nmap XMAS|ET SCAN NMAP OS Detection Probe»"), rng.pick(&["Attempted Information Leak", "Web Application Attack", "Detection of a Network Scan"]), rng.fill("«hiport»"), rng.fill("«priv_ip»"), rng.pick(&["80", "443", "8080", "3306", "22"])),
        _ => format!("{ip} - - [{}] \"{method} {path} HTTP/1.1\" {status} {} \"-\" \"{}\"", rng.fill("«ts_apache»"), rng.range(0, 2000), rng.fill("«ua»")),
    }
}

const WINDOWS_DISCOVERY: &[&str] = &[
    "whoami /all",
    "whoami /groups",
    "whoami /priv",
    "net user /domain",
    "net user «user» /domain",
    "net group \"Domain Admins\" /domain",
    "net group \"Enterprise Admins\" /domain",
    "net group \"Domain Computers\" /domain",
    "net localgroup administrators",
    "net localgroup \"Remote Desktop Users\"",
    "nltest /dclist:«corp|contoso|«domain»»",
    "nltest /domain_trusts /all_trusts",
    "nltest /dsgetdc:«domain»",
    "arp -a",
    "systeminfo",
    "systeminfo | findstr /B /C:\"OS Name\" /C:\"OS Version\"",
    "ipconfig /all",
    "netstat -ano",
    "tasklist /v",
    "tasklist /svc",
    "query user",
    "quser",
    "qwinsta",
    "net view /all",
    "net view \\\\«winhost» /all",
    "net share",
    "net session",
    "net accounts /domain",
    "net config workstation",
    "cmdkey /list",
    "klist",
    "route print",
    "nbtstat -A «ip»",
    "net time \\\\«winhost»",
    "reg query \"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\" /s",
    "wmic product get name,version",
    "wmic qfe list brief",
    "wmic useraccount get name,sid",
    "wmic computersystem get domain",
    "wmic /node:«ip» process list brief",
    "wmic process get name,executablepath,commandline",
    "wmic logicaldisk get caption,description,providername",
    "Get-WmiObject -Class Win32_ComputerSystem",
    "Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version",
    "Get-Process | Select-Object Name, Id, Path",
    "Get-LocalUser",
    "Get-LocalGroupMember Administrators",
    "Get-NetTCPConnection -State Listen",
    "Get-MpComputerStatus",
    "Get-ChildItem -Path C:\\Users -Recurse -Include *.kdbx,*.config,*password* -ErrorAction SilentlyContinue",
    "findstr /si password *.xml *.ini *.txt *.config",
    "dir /s /b *pass* == *cred* == *vnc* == *.config*",
    "sc query state= all",
    "schtasks /query /fo LIST /v",
    "netsh wlan show profiles",
    "netsh advfirewall show allprofiles",
    "netsh interface ip show config",
    "fsutil fsinfo drives",
    "wevtutil qe Security /c:«n99» /f:text",
    "set",
    "echo %USERDOMAIN%\\%USERNAME% & hostname",
    "Get-ADDomain",
    "[System.DirectoryServices.ActiveDirectory.Domain]::GetCurrentDomain()",
    "tasklist | findstr /i \"«avp|MsMpEng|csfalcon|SentinelAgent|cb|sophos»\"",
];

fn recon_windows(rng: &mut Rng) -> String {
    let cmd = if rng.chance(30) {
        // Intrusion scripts run several at once.
        let n = rng.range(2, 5);
        let sep = rng.pick(&[" & ", " && ", "; ", " & ", " | "]);
        let sep = if sep == " | " { " & " } else { sep };
        (0..n).map(|_| rng.fill_one(WINDOWS_DISCOVERY)).collect::<Vec<_>>().join(sep)
    } else {
        rng.fill_one(WINDOWS_DISCOVERY)
    };
    let cmd = if rng.chance(8) { encode::cmd_obfuscate(&cmd, rng) } else { cmd };
    if rng.chance(50) {
        context::command(rng, &cmd, Os::Windows)
    } else {
        cmd
    }
}

const UNIX_DISCOVERY: &[&str] = &[
    "id", "uname -a", "cat /etc/*release", "cat /etc/os-release", "sudo -l", "cat /etc/passwd | cut -d: -f1",
    "getent passwd", "cat /etc/group", "ps aux", "ps -ef", "netstat -antup", "ss -tulpn", "ip a", "ip route",
    "arp -n", "cat /etc/hosts", "cat /etc/resolv.conf", "w", "last -a", "lastlog", "hostname -I", "env",
    "cat /proc/version", "lsb_release -a", "dpkg -l", "rpm -qa", "crontab -l", "ls -la /etc/cron*", "ls -la /home",
    "ls -la /root", "find / -writable -type d 2>/dev/null", "find / -name \"*.pem\" -o -name \"id_rsa*\" 2>/dev/null",
    "find / -name \"*.conf\" -newer /etc/passwd 2>/dev/null", "cat ~/.bash_history", "history",
    "cat /proc/net/tcp", "lscpu", "df -h", "mount", "which gcc python perl nc wget curl",
    "grep -ri password /var/www 2>/dev/null", "docker ps", "kubectl auth can-i --list", "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/", "curl -H \"Metadata-Flavor: Google\" http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    "aws sts get-caller-identity", "aws iam list-users", "aws s3 ls", "az ad user list", "gcloud projects list",
    "systemctl list-units --type=service --state=running", "cat /etc/shadow", "ls -la /tmp /dev/shm", "whoami",
];

fn recon_unix(rng: &mut Rng) -> String {
    let cmd = if rng.chance(50) {
        let n = rng.range(2, 6);
        let sep = rng.pick(&["; ", " && ", ";", " ; "]);
        (0..n).map(|_| rng.fill_one(UNIX_DISCOVERY)).collect::<Vec<_>>().join(sep)
    } else {
        rng.fill_one(UNIX_DISCOVERY)
    };
    if rng.chance(45) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

const AD_RECON: &[&str] = &[
    "ldapsearch -x -H ldap://«ip» -b \"dc=«corp|contoso|acme|ad»,dc=«local|com»\" \"(objectClass=«user|computer|group»)\"«| sAMAccountName| memberOf»",
    "ldapsearch -LLL -x -H ldap://«ip» -D \"«user»@«domain»\" -w '«word»' -b \"DC=«corp|contoso|acme»,DC=local\" \"(&(objectCategory=person)(servicePrincipalName=*))\"",
    "bloodhound-python -d «domain» -u «user» -p '«word»«n99»' -c all -ns «ip»",
    "SharpHound.exe -c All «--zipfilename «word».zip|--stealth|»",
    "Invoke-BloodHound -CollectionMethod All -Domain «domain»",
    "ldapdomaindump -u '«corp|contoso|acme»\\«user»' -p '«word»' «ip»",
    "Get-ADUser -Filter * -Properties *", "Get-ADUser -Filter * -Properties * | Select-Object SamAccountName, MemberOf",
    "Get-ADComputer -Filter * -Properties OperatingSystem",
    "Get-ADGroupMember -Identity \"Domain Admins\" -Recursive",
    "Get-NetDomain", "Get-NetUser -SPN", "Get-NetComputer -Unconstrained", "Get-DomainTrust", "Find-LocalAdminAccess",
    "Invoke-ShareFinder -CheckShareAccess", "Get-NetSession -ComputerName «winhost»", "Invoke-UserHunter -CheckAccess",
    "dsquery user -limit 0", "dsquery computer -limit 0", "dsquery group -name \"Domain Admins\" | dsget group -members",
    "adfind.exe -f objectcategory=computer", "adfind.exe -f (objectcategory=person) > ad_users.txt",
    "adfind.exe -sc trustdmp", "adfind.exe -gcb -sc trustdmp",
    "setspn -T «corp|contoso|acme» -Q */*", "setspn -L «user»",
    "GetUserSPNs.py «domain»/«user»:'«word»' -dc-ip «ip» -request",
    "kerbrute userenum -d «domain» --dc «ip» users.txt",
    "Rubeus.exe kerberoast /outfile:hashes.txt",
    "net group \"Domain Controllers\" /domain",
    "rpcclient -U «user» «ip» -c enumdomusers",
    "windapsearch.py -d «domain» --dc-ip «ip» -U",
    "crackmapexec ldap «ip» -u «user» -p '«word»' --users",
    "Get-DomainUser -PreauthNotRequired",
    "nslookup -type=SRV _ldap._tcp.dc._msdcs.«domain»",
];

fn recon_ad(rng: &mut Rng) -> String {
    let cmd = rng.fill_one(AD_RECON);
    let windows = cmd.starts_with("Get-")
        || cmd.contains(".exe")
        || cmd.starts_with("Invoke-")
        || cmd.starts_with("Find-")
        || cmd.starts_with("ds")
        || cmd.starts_with("net ")
        || cmd.starts_with("setspn")
        || cmd.starts_with("nslookup");
    if rng.chance(40) {
        context::command(rng, &cmd, if windows { Os::Windows } else { Os::Linux })
    } else {
        cmd
    }
}

fn recon_netlog(rng: &mut Rng) -> String {
    let src = rng.fill("«pub_ip»");
    let dst = rng.fill("«ip»");
    match rng.below(9) {
        0 => format!("{} {} portsentry[{}]: attackalert: {} scan from host: {}/{src} to TCP port: {}", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«pid»"), rng.pick(&["SYN/Normal", "FIN", "XMAS", "NULL", "Connect"]), rng.fill("«alnum».«evil_domain»"), rng.range(1, 65535)),
        1 => format!("{} Scan::Port_Scan {src} scanned at least {} unique ports of host {dst} in 0m{}s", rng.fill("«ts_epoch_ms»"), rng.range(15, 5000), rng.range(1, 59)),
        2 => format!("{} Scan::Address_Scan {src} scanned at least {} unique hosts on port {} in 0m{}s", rng.fill("«ts_epoch_ms»"), rng.range(25, 900), rng.pick(&["22/tcp", "445/tcp", "3389/tcp", "23/tcp", "80/tcp"]), rng.range(1, 59)),
        3 => format!("%ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is {} per second, max configured rate is 10; Current average rate is {} per second, max configured rate is 5; Cumulative total count is {}", rng.range(11, 500), rng.range(6, 200), rng.range(1000, 90000)),
        4 => format!("{} {} kernel: [{}] Possible port scan detected from {src}: {} ports in {} seconds (last DPT={})", rng.fill("«ts_syslog»"), rng.fill("«host»"), rng.fill("«n99»«n99»«n99».«n99»«n9»"), rng.range(20, 1000), rng.range(1, 20), rng.range(1, 65535)),
        5 => format!("date={} time={} devname=\"{}\" type=\"anomaly\" subtype=\"anomaly\" level=\"alert\" severity=\"critical\" srcip={src} dstip={dst} attack=\"{}\" action=\"detected\" count={}", rng.fill("«date»"), rng.fill("«time»"), rng.fill("FGT«n99»F"), rng.pick(&["tcp_port_scan", "udp_scan", "ip_src_session", "tcp_syn_flood"]), rng.range(100, 9000)),
        6 => format!("{} THREAT,scan,{src},{dst},{},TCP Port Scan,(9999),any,{},alert", rng.fill("«ts_sql»"), rng.range(1, 65535), rng.pick(&["critical", "high", "medium"])),
        7 => format!("{} [**] [122:1:1] (port_scan) TCP Portscan [**] [Classification: Attempted Information Leak] [Priority: 2] {{PROTO:255}} {src} -> {dst}", rng.fill("«ts_syslog»")),
        _ => json!({"timestamp": rng.fill("«ts_iso»"), "event_type": "alert", "src_ip": src, "dest_ip": dst, "dest_port": rng.range(1, 65535), "proto": "TCP",
                    "alert": {"signature": rng.fill("«ET SCAN Suspicious inbound to MSSQL port 1433|ET SCAN Potential SSH Scan|ET SCAN Behavioral Unusual Port 445 traffic Potential Scan or Infection|ET SCAN NMAP -sS window 1024|ET SCAN Possible Nmap User-Agent Observed»"), "category": "Detection of a Network Scan", "severity": 2}}).to_string(),
    }
}
