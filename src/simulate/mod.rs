//! The HTTP load simulator (filled in alongside).
