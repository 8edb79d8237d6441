//! breachdesk: a terminal console for responding to a Breach of Security under
//! paragraph 8 of a UK government contract's security schedule.
//!
//! Layers: [`domain`] is pure (incident, clocks, calendar, playbooks); the
//! store, audit log and mailer sit at the edges; the CLI and the console turn
//! a responder's intent into domain changes through [`ops`].

pub mod config;
pub mod domain;
pub mod mail;
pub mod paths;
pub mod text;
