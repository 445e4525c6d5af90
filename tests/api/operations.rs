//! Tests: operations (being written).
