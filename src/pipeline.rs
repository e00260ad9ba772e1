//! Pipeline. STUB
