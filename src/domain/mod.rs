//! The pure domain: incidents, clocks, the Working-Day calendar and playbooks.
//! Nothing in here touches a terminal, the filesystem or the network.
//!
//! The incident record is spread over a few files, each using only those
//! before it: `kebab` (the word-list macro), `terms`, `record`, `notice`,
//! `request`, `step`, `team`, then `incident` (which re-exports them all, so
//! `domain::incident::X` names any part of the record) and `playbook`.
pub mod calendar;
pub mod clock;
pub mod incident;
mod kebab;
pub mod merge;
pub mod notice;
pub mod playbook;
pub mod record;
pub mod register;
pub mod reminders;
pub mod request;
pub mod step;
pub mod summary;
pub mod team;
pub mod terms;
pub mod uid;
pub mod urgency;
pub mod when;
