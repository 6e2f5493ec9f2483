//! The cookies the portal reads and sets, through the `cookie` crate: the `Cookie` header
//! parsed and every `Set-Cookie` written by RFC 6265's rules, in one place.
//!
//! Every cookie the portal sets is `Path=/`, `HttpOnly` and `SameSite=Lax`; `Secure` is
//! added on the way out for requests that arrived over https ([`make_secure`]).

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The value of the cookie `name` the request carries, if any.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Sets the portal cookie `name` on a response; `max_age` in seconds (`None`: for the
/// browser's session).
pub fn set(headers: &mut HeaderMap, name: &str, value: &str, max_age: Option<u64>) {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    if let Some(secs) = max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(secs as i64));
    }
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Marks every cookie a response sets `Secure` (for a request that came over https).
pub fn make_secure(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| {
            let mut c = Cookie::parse(v.to_str().ok()?.to_owned()).ok()?;
            c.set_secure(true);
            HeaderValue::from_str(&c.to_string()).ok()
        })
        .collect();
    headers.remove(header::SET_COOKIE);
    for c in cookies {
        headers.append(header::SET_COOKIE, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many_and_writes_the_portal_attributes() {
        let mut req = HeaderMap::new();
        req.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; cp_device=x.y"),
        );
        req.append(header::COOKIE, HeaderValue::from_static("b=\"quoted\""));
        assert_eq!(value(&req, "cp_device").as_deref(), Some("x.y"));
        assert_eq!(value(&req, "b").as_deref(), Some("\"quoted\""));
        assert_eq!(value(&req, "c"), None);

        let mut resp = HeaderMap::new();
        set(&mut resp, "cp_device", "m1", Some(60));
        set(&mut resp, "csrf", "t", None);
        make_secure(&mut resp);
        let set: Vec<&str> = resp
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(set.len(), 2);
        for c in &set {
            for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
                assert!(c.contains(attr), "{c}: {attr}");
            }
        }
        assert!(set[0].starts_with("cp_device=m1") && set[0].contains("Max-Age=60"));
        assert!(!set[1].contains("Max-Age"));
    }
}
