//! The welcome and password-reset emails, HTML and plain text. The plain-text part always
//! contains the line `Temporary password: <password>` (a contract tests outside the portal rely on).

use maud::{DOCTYPE, Markup, html};

use super::Mail;

pub(crate) fn frame(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (title) } }
            body style="font-family: Arial, Helvetica, sans-serif; color: #1c2430; background: #f4f6f9; padding: 24px;" {
                table role="presentation" width="100%" cellpadding="0" cellspacing="0" {
                    tr { td align="center" {
                        table role="presentation" width="560" cellpadding="24" cellspacing="0" style="background: #ffffff; border: 1px solid #d7dde5; border-radius: 8px;" {
                            tr { td {
                                h2 style="margin-top: 0; color: #0b5cad;" { "WePackItAll Customer Portal" }
                                (body)
                                p style="color: #5b6778; font-size: 12px; margin-top: 24px;" {
                                    "You receive this email because a WePackItAll administrator manages your portal account. "
                                    "If you did not expect it, contact your account manager."
                                }
                            } }
                        }
                    } }
                }
            }
        }
    }
    .into_string()
}

/// A message to one address, without attachments.
fn to_one(email: &str, subject: String, html: String, text: String) -> Mail {
    Mail {
        to: email.to_owned(),
        subject,
        html,
        text,
        ..Mail::default()
    }
}

fn credentials_block(email: &str, password: &str, login_url: &str) -> Markup {
    html! {
        table role="presentation" cellpadding="6" style="background: #eef1f5; border-radius: 6px; margin: 12px 0;" {
            tr { td { "Sign-in page:" } td { a href=(login_url) { (login_url) } } }
            tr { td { "Email:" } td { strong { (email) } } }
            tr { td { "Temporary password:" } td { code style="font-size: 16px;" { (password) } } }
        }
        p { "You will be asked to choose your own password when you first sign in." }
    }
}

pub fn welcome(first_name: &str, email: &str, password: &str, login_url: &str) -> Mail {
    // The old portal's subject, word for word (mail rules and people search for it).
    let subject = "Welcome to the WePackItAll Customer Portal".to_owned();
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "An account has been created for you on the WePackItAll Customer Portal, where you can see your live inventory at any time." }
            (credentials_block(email, password, login_url))
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         An account has been created for you on the WePackItAll Customer Portal, where you can see your live inventory at any time.\n\n\
         Sign-in page: {login_url}\n\
         Email: {email}\n\
         Temporary password: {password}\n\n\
         You will be asked to choose your own password when you first sign in.\n"
    );
    to_one(email, subject, html, text)
}

pub fn password_reset(first_name: &str, email: &str, password: &str, login_url: &str) -> Mail {
    // The old portal's subject, word for word.
    let subject = "Your Customer Portal Password Has Been Reset".to_owned();
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "A WePackItAll administrator has reset your portal password. Any open sessions were signed out." }
            (credentials_block(email, password, login_url))
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         A WePackItAll administrator has reset your portal password. Any open sessions were signed out.\n\n\
         Sign-in page: {login_url}\n\
         Email: {email}\n\
         Temporary password: {password}\n\n\
         You will be asked to choose your own password when you first sign in.\n"
    );
    to_one(email, subject, html, text)
}

/// A self-service reset link (asked for on "Forgot password?") that works for `lifetime`.
pub fn reset_link(
    first_name: &str,
    email: &str,
    link: &str,
    lifetime: std::time::Duration,
) -> Mail {
    let subject = "Reset your WePackItAll Customer Portal password".to_owned();
    let minutes = lifetime.as_secs() / 60;
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "Someone asked to reset the password of the portal account " strong { (email) } ". To choose a new password, open this link:" }
            p { a href=(link) style="display: inline-block; background: #0b5cad; color: #ffffff; padding: 10px 18px; border-radius: 6px; text-decoration: none;" { "Choose a new password" } }
            p style="font-size: 12px; color: #5b6778; word-break: break-all;" { (link) }
            p { "The link works once, for " (minutes) " minutes. Choosing a new password signs out every open session of your account." }
            p { "If you did not ask for this, ignore this email: your password stays as it is." }
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         Someone asked to reset the password of the portal account {email}. To choose a new password, open this link:\n\n\
         {link}\n\n\
         The link works once, for {minutes} minutes. Choosing a new password signs out every open session of your account.\n\n\
         If you did not ask for this, ignore this email: your password stays as it is.\n"
    );
    to_one(email, subject, html, text)
}

/// What a new sign-in mail says about the browser.
#[derive(Debug, Clone)]
pub struct SignInFacts {
    /// When, on the portal's wall clock (`PORTAL_TIMEZONE`).
    pub when: String,
    pub address: String,
    /// The browser and system, as [`crate::domain::describe_browser`] names them.
    pub device: String,
}

/// "A new sign-in to your account": a browser that had never signed in to the account
/// did; `sessions_link` is the page where the customer sees and ends their sessions.
pub fn new_sign_in(
    first_name: &str,
    email: &str,
    facts: &SignInFacts,
    sessions_link: &str,
) -> Mail {
    let subject = "A new sign-in to your WePackItAll Customer Portal account".to_owned();
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "Your portal account " strong { (email) } " was just signed in to from a browser that had not been used with it before." }
            table role="presentation" cellpadding="6" style="background: #eef1f5; border-radius: 6px; margin: 12px 0;" {
                tr { td { "When:" } td { (facts.when) } }
                tr { td { "Browser:" } td { (facts.device) } }
                tr { td { "Address:" } td { (facts.address) } }
            }
            p { "If this was you, there is nothing to do." }
            p { "If it was not, sign out that browser and change your password:" }
            p { a href=(sessions_link) style="display: inline-block; background: #0b5cad; color: #ffffff; padding: 10px 18px; border-radius: 6px; text-decoration: none;" { "See where you are signed in" } }
            p style="font-size: 12px; color: #5b6778; word-break: break-all;" { (sessions_link) }
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         Your portal account {email} was just signed in to from a browser that had not been used with it before.\n\n\
         When: {}\n\
         Browser: {}\n\
         Address: {}\n\n\
         If this was you, there is nothing to do.\n\
         If it was not, sign out that browser and change your password:\n\n\
         {sessions_link}\n",
        facts.when, facts.device, facts.address
    );
    to_one(email, subject, html, text)
}

/// An admin turned the account's two-step sign-in off (a lost phone, most likely).
pub fn two_factor_reset(first_name: &str, email: &str, login_url: &str) -> Mail {
    let subject = "Two-step sign-in was turned off for your portal account".to_owned();
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "A WePackItAll administrator turned off two-step sign-in for the portal account " strong { (email) } ". Signing in now asks for your password only." }
            p { "To protect your account again, sign in and turn two-step sign-in back on under \"Two-step sign-in\": " a href=(login_url) { (login_url) } }
            p { "If you did not ask for this, contact your account manager." }
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         A WePackItAll administrator turned off two-step sign-in for the portal account {email}. Signing in now asks for your password only.\n\n\
         To protect your account again, sign in and turn two-step sign-in back on under \"Two-step sign-in\": {login_url}\n\n\
         If you did not ask for this, contact your account manager.\n"
    );
    to_one(email, subject, html, text)
}

/// A team manager invited a colleague: the link (a single-use password link that works
/// for `lifetime`) sets their password and opens the account.
pub fn team_invitation(
    first_name: &str,
    email: &str,
    manager: &str,
    link: &str,
    lifetime: std::time::Duration,
) -> Mail {
    let subject = "You are invited to the WePackItAll Customer Portal".to_owned();
    let hours = lifetime.as_secs() / 3600;
    let html = frame(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { (manager) " invited you to see your company's inventory at WePackItAll in the Customer Portal, as " strong { (email) } ". To choose your password and start, open this link:" }
            p { a href=(link) style="display: inline-block; background: #0b5cad; color: #ffffff; padding: 10px 18px; border-radius: 6px; text-decoration: none;" { "Accept the invitation" } }
            p style="font-size: 12px; color: #5b6778; word-break: break-all;" { (link) }
            p { "The link works once, for " (hours) " hours. If it has run out, ask " (manager) " to send the invitation again." }
            p { "If you did not expect this, ignore this email." }
        },
    );
    let text = format!(
        "Hello {first_name},\n\n\
         {manager} invited you to see your company's inventory at WePackItAll in the Customer Portal, as {email}. To choose your password and start, open this link:\n\n\
         {link}\n\n\
         The link works once, for {hours} hours. If it has run out, ask {manager} to send the invitation again.\n\n\
         If you did not expect this, ignore this email.\n"
    );
    to_one(email, subject, html, text)
}
