//! breachdesk: a terminal console for responding to a Breach of Security under
//! paragraph 8 of a UK government contract's security schedule.

pub mod domain;
