//! phonehome.toml: raw serde structs turned into a validated [`Config`].
//! STUB: to be implemented.
