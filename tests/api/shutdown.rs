//! Tests: shutdown (being written).
