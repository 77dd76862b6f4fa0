"""pfinstance - throwaway Postfix instances on loopback for the e2e tests.

Each instance has its own config_directory, queue_directory and
data_directory, listens only on 127.0.0.1 ports given by the caller, logs
through postlogd to a maillog_file in a temporary directory, and is removed
again by destroy(). The system instance (/etc/postfix) is never read for
writing, started, stopped or reconfigured: postfix(1) is always called with
"-c <our config_directory>", and the commands that act on the default
instance are never run.
"""
import os
import shutil
import subprocess
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def make_selfsigned(dirpath, name, cn):
    """Self-signed RSA-2048 certificate for cn; returns (key, cert) paths."""
    key = os.path.join(dirpath, name + ".key")
    crt = os.path.join(dirpath, name + ".pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=DNS:" + cn])
    os.chmod(key, 0o600)
    return key, crt


class Instance:
    """One Postfix instance. main_cf: dict of parameters; services: list of
    master.cf lines (the unix services every instance needs are added)."""

    BASE_SERVICES = [
        # service type  private unpriv chroot wakeup maxproc command
        "pickup     unix  n       -       n       60      1       pickup",
        "cleanup    unix  n       -       n       -       0       cleanup",
        "qmgr       unix  n       -       n       300     1       qmgr",
        "tlsmgr     unix  -       -       n       1000?   1       tlsmgr",
        "rewrite    unix  -       -       n       -       -       trivial-rewrite",
        "bounce     unix  -       -       n       -       0       bounce",
        "defer      unix  -       -       n       -       0       bounce",
        "trace      unix  -       -       n       -       0       bounce",
        "verify     unix  -       -       n       -       1       verify",
        "flush      unix  n       -       n       1000?   0       flush",
        "proxymap   unix  -       -       n       -       -       proxymap",
        "proxywrite unix  -       -       n       -       1       proxymap",
        "smtp       unix  -       -       n       -       -       smtp",
        "relay      unix  -       -       n       -       -       smtp",
        "showq      unix  n       -       n       -       -       showq",
        "error      unix  -       -       n       -       -       error",
        "retry      unix  -       -       n       -       -       error",
        "discard    unix  -       -       n       -       -       discard",
        "anvil      unix  -       -       n       -       1       anvil",
        "scache     unix  -       -       n       -       1       scache",
        "postlog    unix-dgram n  -       n       -       1       postlogd",
    ]

    def __init__(self, name, logfile, main_cf, services, files=None):
        self.name = name                                  # e.g. postfix-pte-e2e
        self.config_dir = "/etc/" + name
        self.queue_dir = "/var/spool/" + name
        self.data_dir = "/var/lib/" + name
        self.logfile = logfile
        self.main_cf = dict(main_cf)
        self.services = list(services)
        self.files = dict(files or {})
        self.started = False

    def _refuse_system_paths(self):
        for d in (self.config_dir, self.queue_dir, self.data_dir):
            if os.path.realpath(d) in ("/etc/postfix", "/var/spool/postfix", "/var/lib/postfix"):
                raise RuntimeError("refusing to touch the system Postfix: " + d)

    def create(self):
        self._refuse_system_paths()
        self.destroy()  # leftovers of an interrupted run
        os.makedirs(self.config_dir, mode=0o755)
        os.makedirs(self.queue_dir, mode=0o755)
        os.makedirs(self.data_dir, mode=0o700)
        shutil.chown(self.data_dir, "postfix", "postfix")
        cf = {
            "compatibility_level": "3.6",
            "config_directory": self.config_dir,
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "multi_instance_name": self.name,
            "syslog_name": "postfix",
            "maillog_file": self.logfile,
            "maillog_file_prefixes": os.path.dirname(self.logfile),
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "192.0.2.0/24",
            "mydomain": "example.test",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 no local delivery in the e2e lab",
            "biff": "no",
            "append_dot_mydomain": "no",
            "readme_directory": "no",
            "smtputf8_enable": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "minimal_backoff_time": "300s",
            "queue_run_delay": "300s",
            "maximal_queue_lifetime": "1h",
            "bounce_queue_lifetime": "1h",
            "smtp_dns_support_level": "disabled",
            "disable_dns_lookups": "yes",
        }
        cf.update(self.main_cf)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            for k, v in cf.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write("\n".join(self.services + self.BASE_SERVICES) + "\n")
        for fname, content in self.files.items():
            with open(os.path.join(self.config_dir, fname), "w") as f:
                f.write(content)

    def postconf(self, *params):
        return run([POSTCONF, "-c", self.config_dir, "-h"] + list(params)).stdout

    def postfix(self, *args, check=True):
        return run([POSTFIX, "-c", self.config_dir] + list(args), check=check)

    def start(self):
        r = self.postfix("check", check=False)
        if r.returncode != 0:
            raise RuntimeError("postfix check (%s) failed:\n%s" % (self.config_dir, r.stdout))
        self.postfix("start")
        self.started = True

    def queue_count(self):
        r = run(["/usr/sbin/postqueue", "-c", self.config_dir, "-j"], check=False)
        return len([l for l in r.stdout.splitlines() if l.startswith("{")])

    def stop(self):
        if not self.started and not os.path.exists(os.path.join(self.queue_dir, "pid", "master.pid")):
            return
        self.postfix("stop", check=False)
        # master exits asynchronously; wait for its pid file lock to go away
        pidfile = os.path.join(self.queue_dir, "pid", "master.pid")
        for _ in range(100):
            r = self.postfix("status", check=False)
            if r.returncode != 0:
                break
            time.sleep(0.1)
        else:
            try:
                pid = int(open(pidfile).read().split()[0])
                os.kill(pid, 9)
            except (OSError, ValueError, IndexError):
                pass
        self.started = False

    def destroy(self):
        self._refuse_system_paths()
        if os.path.isdir(self.config_dir):
            if os.path.exists(os.path.join(self.queue_dir, "pid", "master.pid")):
                self.stop()
        for d in (self.config_dir, self.queue_dir, self.data_dir):
            shutil.rmtree(d, ignore_errors=True)
