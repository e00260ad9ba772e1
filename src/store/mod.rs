//! SQLite storage: schema and migrations, the batching writer thread, retention, and the
//! queries behind the CLI.
//! STUB: to be implemented.

pub mod query;
pub mod schema;
pub mod writer;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: {msg}")]
    Other { path: String, msg: String },
}
