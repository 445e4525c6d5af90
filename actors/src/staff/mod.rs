//! Staff: the people behind the handoff — who they are (role), how they prove it (password and
//! sign-in token) and when they are there (opening hours). Pure domain: no actix, no storage.

mod hours;
mod password;

pub use hours::{HoursError, HoursSpec, OpeningHours, VIETNAM_OFFSET_HOURS, vietnam_offset};
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordError, check_password_policy, hash_password,
    verify_password, verify_password_or_dummy,
};

use std::fmt;
use uuid::Uuid;

/// What a member of staff may do. Each role includes everything the roles below it may do:
/// admin ⊇ supervisor ⊇ counsellor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaffRole {
    /// Works the queue and their own handoffs.
    Counsellor,
    /// Also sees queue and outcome figures (never conversations).
    Supervisor,
    /// Also manages staff and opening hours.
    Admin,
}

impl StaffRole {
    /// Every role, lowest first.
    pub const ALL: [StaffRole; 3] = [
        StaffRole::Counsellor,
        StaffRole::Supervisor,
        StaffRole::Admin,
    ];

    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Counsellor => "counsellor",
            StaffRole::Supervisor => "supervisor",
            StaffRole::Admin => "admin",
        }
    }

    /// The role a stored or typed name means.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether this role may do what `needed` may.
    pub fn includes(self, needed: StaffRole) -> bool {
        self >= needed
    }

    /// Whether someone of this role may take handoffs from the queue. Every role may: a
    /// supervisor or an admin on shift is a trained person too, and a quiet night may have no one
    /// else signed in.
    pub fn works_queue(self) -> bool {
        self.includes(StaffRole::Counsellor)
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shortest and longest user name.
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 2..=64;

/// A user name as stored: lowercase ASCII letters, digits, `.`, `_` and `-`, 2 to 64 of them.
/// Input is trimmed and lowercased first, so `Lan` and `lan` are one account.
pub fn normalise_username(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    if !USERNAME_CHARS.contains(&name.chars().count()) {
        return Err(format!(
            "a user name has {} to {} characters",
            USERNAME_CHARS.start(),
            USERNAME_CHARS.end()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("a user name may hold only letters a-z, digits, '.', '_' and '-'".into());
    }
    Ok(name)
}

/// A signed-in member of staff, as a valid token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    /// Their account.
    pub staff_id: Uuid,
    /// Their user name.
    pub username: String,
    /// Their role.
    pub role: StaffRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        use StaffRole::*;
        assert!(Admin.includes(Supervisor) && Admin.includes(Counsellor) && Admin.includes(Admin));
        assert!(Supervisor.includes(Counsellor) && !Supervisor.includes(Admin));
        assert!(!Counsellor.includes(Supervisor) && Counsellor.includes(Counsellor));
        assert!(StaffRole::ALL.iter().all(|role| role.works_queue()));
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(StaffRole::parse("Admin"), None);
        assert_eq!(StaffRole::parse("root"), None);
    }

    #[test]
    fn user_names_are_normalised_and_checked() {
        assert_eq!(
            normalise_username("  Lan.Nguyen_2 ").unwrap(),
            "lan.nguyen_2"
        );
        assert!(normalise_username("a").is_err());
        assert!(normalise_username(&"a".repeat(65)).is_err());
        assert!(normalise_username("lan nguyen").is_err());
        assert!(normalise_username("lân").is_err());
        assert!(normalise_username("lan;drop").is_err());
    }
}
