//! Tests: openai (being written).
