//! breachdesk: a terminal console for responding to a Breach of Security under
//! paragraph 8 of a UK government contract's security schedule.
//!
//! Layers: [`domain`] is pure (incident, clocks, calendar, playbooks); the
//! [`store`], [`audit`] log and mailer sit at the edges; the CLI
//! ([`cli`], [`commands`]) and the console ([`tui`]) turn a responder's intent
//! into changes through the [`desk`], opened by [`setup`].

pub mod address;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod desk;
pub mod domain;
pub mod durable;
pub mod eml;
pub mod export;
pub mod index;
pub mod logging;
pub mod mail;
pub mod paths;
pub mod playbooks;
pub mod present;
pub mod report;
pub mod safe_read;
pub mod setup;
pub mod store;
pub mod sync;
pub mod text;
pub mod tui;
pub mod watch;
