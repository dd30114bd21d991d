//! The verb facade (get, list, put, update, delete, watch, sel) over the kind registry (being built).
