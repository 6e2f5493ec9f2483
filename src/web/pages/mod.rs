//! One module per feature: its page, its fragments and its handlers side by side.

pub mod admin;
pub mod health;
pub mod home;
pub mod inventory;
pub mod legacy;
pub mod login;
pub mod logout;
pub mod minimums;
pub mod password;
pub mod reset;
pub mod unsubscribe;
pub mod views;
