//! A throwaway AD-like OpenLDAP for the directory tests (docs/active-directory.md): an own schema with
//! `sAMAccountName` and the `user`/`group` classes, the memberof overlay, started in the
//! foreground on a free loopback port, optionally with TLS (a self-signed certificate).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, Scope};

pub const BASE_DN: &str = "dc=example,dc=local";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=local";
pub const ROOT_PW: &str = "root-secret";
pub const SVC_DN: &str = "cn=svc,ou=people,dc=example,dc=local";
pub const SVC_PW: &str = "svc-secret";
pub const GROUP: &str = "Customer_Portal_Admin";
pub const ALICE_PW: &str = "alice-secret-1";
pub const BOB_PW: &str = "bob-secret-1";

const SCHEMA: &str = "\
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL
  MAY ( sAMAccountName $ userPrincipalName ) )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL
  MUST cn MAY member )
";

/// An entry's attributes as ldap3 takes them.
type Attrs = Vec<(&'static str, HashSet<&'static str>)>;

pub fn slapd_binary() -> Option<PathBuf> {
    let found = ["/usr/sbin/slapd", "/usr/local/libexec/slapd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let usable = found.filter(|_| Path::new("/usr/lib/ldap/back_mdb.so").exists());
    crate::helpers::require_tool(
        usable,
        "directory test: OpenLDAP slapd is not installed (apt-get install -y slapd ldap-utils; .ci/run does this)",
        crate::helpers::under_ci(),
    )
}

pub struct Slapd {
    child: Option<Child>,
    pub port: u16,
    pub tls_port: Option<u16>,
    pub cert: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

use crate::support::free_port;

fn self_signed(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then_some((cert, key))
}

impl Slapd {
    /// Starts slapd with the test directory loaded. `tls`: also serve LDAPS and StartTLS
    /// with a self-signed certificate (None when openssl is missing).
    pub async fn start(binary: &Path, tls: bool) -> Option<Slapd> {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(dir.path().join("ad.schema"), SCHEMA).unwrap();
        let certs = if tls {
            Some(self_signed(dir.path())?)
        } else {
            None
        };
        let tls_conf = certs
            .as_ref()
            .map(|(c, k)| {
                format!(
                    "TLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
                    c.display(),
                    k.display()
                )
            })
            .unwrap_or_default();
        let conf = format!(
            "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {dir}/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
allow bind_anon_dn
{tls_conf}
database mdb
maxsize 10485760
suffix \"{BASE_DN}\"
rootdn \"{ROOT_DN}\"
rootpw {ROOT_PW}
directory {db}
overlay memberof
memberof-group-oc group
memberof-member-ad member
memberof-memberof-ad memberOf
access to attrs=userPassword by anonymous auth by self write by * none
access to * by dn.exact=\"{SVC_DN}\" read by self read by * none
",
            dir = dir.path().display(),
            db = db.display(),
        );
        let conf_path = dir.path().join("slapd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let port = free_port();
        let tls_port = certs.as_ref().map(|_| free_port());
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if let Some(p) = tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
        }
        let child = Command::new(binary)
            .arg("-f")
            .arg(&conf_path)
            .arg("-h")
            .arg(&urls)
            .args(["-d", "none"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("slapd starts");
        let mut s = Slapd {
            child: Some(child),
            port,
            tls_port,
            cert: certs.map(|(c, _)| c),
            _dir: dir,
        };
        s.wait_ready().await;
        s.load().await;
        Some(s)
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok((conn, mut ldap)) =
                LdapConnAsync::new(&format!("ldap://127.0.0.1:{}", self.port)).await
            {
                ldap3::drive!(conn);
                if ldap
                    .search("", Scope::Base, "(objectClass=*)", vec!["namingContexts"])
                    .await
                    .is_ok()
                {
                    let _ = ldap.unbind().await;
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                let mut err = String::new();
                if let Some(mut e) = self.child.as_mut().and_then(|c| c.stderr.take()) {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("slapd exited ({status}): {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "slapd did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Users first, then the group that lists them (so the overlay fills memberOf).
    async fn load(&self) {
        let (conn, mut ldap) = LdapConnAsync::new(&format!("ldap://127.0.0.1:{}", self.port))
            .await
            .unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ROOT_DN, ROOT_PW)
            .await
            .unwrap()
            .success()
            .unwrap();
        let set = |v: &[&'static str]| v.iter().copied().collect::<HashSet<&str>>();
        let entries: Vec<(String, Attrs)> = vec![
            (
                BASE_DN.into(),
                vec![
                    ("objectClass", set(&["top", "dcObject", "organization"])),
                    ("dc", set(&["example"])),
                    ("o", set(&["Example"])),
                ],
            ),
            (
                "ou=people,dc=example,dc=local".into(),
                vec![
                    ("objectClass", set(&["top", "organizationalUnit"])),
                    ("ou", set(&["people"])),
                ],
            ),
            (
                "ou=groups,dc=example,dc=local".into(),
                vec![
                    ("objectClass", set(&["top", "organizationalUnit"])),
                    ("ou", set(&["groups"])),
                ],
            ),
            (
                SVC_DN.into(),
                vec![
                    (
                        "objectClass",
                        set(&["top", "person", "organizationalPerson", "inetOrgPerson"]),
                    ),
                    ("cn", set(&["svc"])),
                    ("sn", set(&["svc"])),
                    ("userPassword", set(&[SVC_PW])),
                ],
            ),
            (
                "cn=Alice Admin,ou=people,dc=example,dc=local".into(),
                vec![
                    (
                        "objectClass",
                        set(&[
                            "top",
                            "person",
                            "organizationalPerson",
                            "inetOrgPerson",
                            "user",
                        ]),
                    ),
                    ("cn", set(&["Alice Admin"])),
                    ("sn", set(&["Admin"])),
                    ("sAMAccountName", set(&["alice"])),
                    ("displayName", set(&["Alice Admin"])),
                    ("mail", set(&["alice@example.local"])),
                    ("userPassword", set(&[ALICE_PW])),
                ],
            ),
            (
                "cn=Bob Basic,ou=people,dc=example,dc=local".into(),
                vec![
                    (
                        "objectClass",
                        set(&[
                            "top",
                            "person",
                            "organizationalPerson",
                            "inetOrgPerson",
                            "user",
                        ]),
                    ),
                    ("cn", set(&["Bob Basic"])),
                    ("sn", set(&["Basic"])),
                    ("sAMAccountName", set(&["bob"])),
                    ("displayName", set(&["Bob Basic"])),
                    ("userPassword", set(&[BOB_PW])),
                ],
            ),
            (
                format!("cn={GROUP},ou=groups,dc=example,dc=local"),
                vec![
                    ("objectClass", set(&["top", "group"])),
                    ("cn", set(&[GROUP])),
                    (
                        "member",
                        set(&["cn=Alice Admin,ou=people,dc=example,dc=local"]),
                    ),
                ],
            ),
            (
                "cn=Other Group,ou=groups,dc=example,dc=local".into(),
                vec![
                    ("objectClass", set(&["top", "group"])),
                    ("cn", set(&["Other Group"])),
                    (
                        "member",
                        set(&["cn=Bob Basic,ou=people,dc=example,dc=local"]),
                    ),
                ],
            ),
        ];
        for (dn, attrs) in entries {
            ldap.add(&dn, attrs)
                .await
                .unwrap()
                .success()
                .unwrap_or_else(|e| panic!("adding {dn}: {e}"));
        }
        let _ = ldap.unbind().await;
    }

    /// The `AD_*` variables for this directory.
    pub fn env(&self, port: u16, starttls: bool) -> Vec<(String, String)> {
        let mut v = vec![
            ("AD_SERVER".into(), "127.0.0.1".into()),
            ("AD_PORT".into(), port.to_string()),
            ("AD_DOMAIN".into(), "example.local".into()),
            ("AD_SERVICE_ACCOUNT".into(), SVC_DN.into()),
            ("AD_SERVICE_PASSWORD".into(), SVC_PW.into()),
            ("AD_BASE_DN".into(), BASE_DN.into()),
            ("AD_PORTAL_ADMIN_GROUP".into(), GROUP.into()),
            (
                "AD_USE_STARTTLS".into(),
                if starttls {
                    "True".into()
                } else {
                    "False".into()
                },
            ),
        ];
        if let Some(c) = &self.cert {
            v.push(("AD_TLS_CA_FILE".into(), c.display().to_string()));
        }
        v
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM lets slapd close its database cleanly (about 1.5 s).
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
