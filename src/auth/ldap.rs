//! Active Directory sign-in for admins, through ldap3.
//!
//! Search, then bind (docs/active-directory.md): the service account searches `AD_BASE_DN` for
//! `(&(objectClass=user)(sAMAccountName=<escaped>))`, reading the DN, `memberOf`,
//! `displayName` and `mail`; then the portal binds as that DN with the user's password.
//! Only members of `AD_PORTAL_ADMIN_GROUP` (matched on the group's CN) are admitted.
//! No DN is ever built from user input, and the username has already been restricted to
//! `[A-Za-z0-9._-]` before it gets here.
//!
//! Port 636 (or `AD_USE_SSL=True`) is LDAPS; otherwise StartTLS unless
//! `AD_USE_STARTTLS=False`.
//! Connect and operation timeouts keep an unreachable directory from blocking sign-in.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};

use crate::config::AdConfig;

/// Connect and per-operation timeout.
pub const AD_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub enum AdOutcome {
    Admitted {
        display_name: Option<String>,
    },
    /// Unknown user, wrong password, or not in the admin group.
    Refused(&'static str),
    Unreachable(String),
}

#[derive(Clone)]
pub struct ActiveDirectory {
    config: AdConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
}

impl std::fmt::Debug for ActiveDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveDirectory")
            .field("server", &self.config.server)
            .field("port", &self.config.port)
            .finish()
    }
}

/// Whether a `memberOf` value names `group` in its first RDN (`CN=group,…`), in any case.
pub fn is_member(member_of: &[String], group: &str) -> bool {
    member_of.iter().any(|dn| {
        let first = dn.split(',').next().unwrap_or("");
        match first.split_once('=') {
            Some((attr, value)) => {
                attr.trim().eq_ignore_ascii_case("cn")
                    && value.trim().eq_ignore_ascii_case(group.trim())
            }
            None => false,
        }
    })
}

impl ActiveDirectory {
    /// `ca_file`: a PEM certificate (or bundle) to trust for the directory's TLS, for
    /// directories whose certificate comes from a private CA.
    pub fn new(
        config: AdConfig,
        ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<ActiveDirectory> {
        let tls = match ca_file {
            None => None,
            Some(path) => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(path).map_err(|e| {
                    anyhow::anyhow!("cannot read AD_TLS_CA_FILE {}: {e}", path.display())
                })? {
                    roots.add(cert.map_err(|e| {
                        anyhow::anyhow!("bad certificate in AD_TLS_CA_FILE: {e}")
                    })?)?;
                }
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Some(Arc::new(config))
            }
        };
        Ok(ActiveDirectory {
            config,
            tls,
            timeout: AD_TIMEOUT,
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn url_and_settings(&self) -> (String, LdapConnSettings) {
        let c = &self.config;
        let mut settings = LdapConnSettings::new().set_conn_timeout(self.timeout);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let url = if c.use_ssl {
            format!("ldaps://{}:{}", c.server, c.port)
        } else {
            settings = settings.set_starttls(c.use_starttls);
            format!("ldap://{}:{}", c.server, c.port)
        };
        (url, settings)
    }

    /// The service account as a bind name: a DN as given, otherwise `account@AD_DOMAIN`.
    fn service_bind_name(&self) -> String {
        let a = &self.config.service_account;
        if a.contains('=') || a.contains('@') {
            a.clone()
        } else {
            format!("{a}@{}", self.config.domain)
        }
    }

    /// Binds with the service account and looks for the admin group, changing nothing:
    /// the preflight's directory check. The group's entry, or why not.
    pub async fn check_service_account(&self) -> Result<String, String> {
        let work = async {
            let (url, settings) = self.url_and_settings();
            let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &url)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            ldap3::drive!(conn);
            ldap.with_timeout(self.timeout)
                .simple_bind(
                    &self.service_bind_name(),
                    self.config.service_password.expose(),
                )
                .await
                .and_then(|r| r.success())
                .map_err(|e| format!("service account bind failed: {e}"))?;
            let filter = format!(
                "(&(objectClass=group)(cn={}))",
                ldap_escape(&self.config.admin_group)
            );
            let found = ldap
                .with_timeout(self.timeout)
                .search(&self.config.base_dn, Scope::Subtree, &filter, vec!["cn"])
                .await
                .and_then(|r| r.success());
            let _ = ldap.unbind().await;
            match found {
                Ok((entries, _)) if entries.is_empty() => Err(format!(
                    "bound as the service account, but no group {:?} under {}",
                    self.config.admin_group, self.config.base_dn
                )),
                Ok((entries, _)) => Ok(format!(
                    "{url}: bound as the service account; group {}",
                    SearchEntry::construct(entries.into_iter().next().expect("one")).dn
                )),
                Err(e) => Err(format!("search failed: {e}")),
            }
        };
        tokio::time::timeout(self.timeout * 3, work)
            .await
            .unwrap_or_else(|_| Err("the directory did not answer in time".to_owned()))
    }

    pub async fn authenticate(&self, username: &str, password: &str) -> AdOutcome {
        match tokio::time::timeout(self.timeout * 3, self.search_then_bind(username, password))
            .await
        {
            Ok(outcome) => outcome,
            Err(_) => AdOutcome::Unreachable("directory did not answer in time".into()),
        }
    }

    async fn search_then_bind(&self, username: &str, password: &str) -> AdOutcome {
        if password.trim().is_empty() {
            return AdOutcome::Refused("empty password");
        }
        let (url, settings) = self.url_and_settings();
        let (conn, mut ldap) = match LdapConnAsync::with_settings(settings.clone(), &url).await {
            Ok(pair) => pair,
            Err(e) => return AdOutcome::Unreachable(e.to_string()),
        };
        ldap3::drive!(conn);
        let service_bind = ldap
            .with_timeout(self.timeout)
            .simple_bind(
                &self.service_bind_name(),
                self.config.service_password.expose(),
            )
            .await
            .and_then(|r| r.success());
        if let Err(e) = service_bind {
            return AdOutcome::Unreachable(format!("service account bind failed: {e}"));
        }
        let filter = format!(
            "(&(objectClass=user)(sAMAccountName={}))",
            ldap_escape(username)
        );
        let found = ldap
            .with_timeout(self.timeout)
            .search(
                &self.config.base_dn,
                Scope::Subtree,
                &filter,
                vec!["memberOf", "displayName", "mail"],
            )
            .await
            .and_then(|r| r.success());
        let _ = ldap.unbind().await;
        let entries = match found {
            Ok((entries, _)) => entries,
            Err(e) => return AdOutcome::Unreachable(format!("search failed: {e}")),
        };
        if entries.len() != 1 {
            return AdOutcome::Refused("no single directory entry for this username");
        }
        let entry = SearchEntry::construct(entries.into_iter().next().expect("one entry"));
        let member_of = entry.attrs.get("memberOf").cloned().unwrap_or_default();
        let display_name = entry
            .attrs
            .get("displayName")
            .and_then(|v| v.first().cloned());

        // Bind as the user, on a fresh connection, to prove the password.
        let (conn, mut user_ldap) = match LdapConnAsync::with_settings(settings, &url).await {
            Ok(pair) => pair,
            Err(e) => return AdOutcome::Unreachable(e.to_string()),
        };
        ldap3::drive!(conn);
        let bound = user_ldap
            .with_timeout(self.timeout)
            .simple_bind(&entry.dn, password)
            .await
            .and_then(|r| r.success());
        let _ = user_ldap.unbind().await;
        if bound.is_err() {
            return AdOutcome::Refused("wrong password");
        }
        if !is_member(&member_of, &self.config.admin_group) {
            return AdOutcome::Refused("not a member of the admin group");
        }
        AdOutcome::Admitted { display_name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_matched_on_the_first_rdn() {
        let groups = vec![
            "CN=Domain Users,CN=Users,DC=example,DC=local".to_owned(),
            "cn=customer_portal_admin,ou=groups,dc=example,dc=local".to_owned(),
        ];
        assert!(is_member(&groups, "Customer_Portal_Admin"));
        assert!(!is_member(&groups, "Portal"));
        assert!(!is_member(
            &["OU=Customer_Portal_Admin,DC=x".to_owned()],
            "Customer_Portal_Admin"
        ));
        assert!(!is_member(
            &["CN=Other,OU=Customer_Portal_Admin".to_owned()],
            "Customer_Portal_Admin"
        ));
    }
}
