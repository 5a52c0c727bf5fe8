//! PostgreSQL (in progress).
