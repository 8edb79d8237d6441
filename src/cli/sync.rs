//! The arguments of `breachdesk sync`: team sync of the data directory
//! through git.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Make the data directory a team's shared one, synced through git with
    /// REMOTE: an empty data directory joins the team (REMOTE's records are
    /// checked out); one with records publishes them to an empty REMOTE.
    /// Run once per machine.
    Init {
        /// Any URL git accepts: a path, file://, ssh (user@host:path) or https.
        remote: String,
    },
}
