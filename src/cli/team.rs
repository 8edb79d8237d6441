//! The arguments of the commands that say who is on an incident: `assign`
//! (roles) and `handover` (and `handover ack`).

use super::choice::choice;
use crate::domain::incident::Role;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The incident's id (INC-...), or a unique part of it.
    pub id: String,
    /// The role.
    #[arg(long, value_parser = choice::<Role>())]
    pub role: Role,
    /// Who takes the role (plain text on one line).
    #[arg(long, required_unless_present = "unassign", value_name = "NAME")]
    pub to: Option<String>,
    /// Take the role from whoever holds it, giving it to nobody.
    #[arg(long, conflicts_with = "to")]
    pub unassign: bool,
}

/// `handover ID --to NAME --note TEXT`, or `handover ack ID`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct HandoverArgs {
    #[command(subcommand)]
    pub command: Option<HandoverCommand>,
    /// The incident's id (INC-...), or a unique part of it.
    #[arg(required = true)]
    pub id: Option<String>,
    /// The next responder (plain text on one line).
    #[arg(long, required = true, value_name = "NAME")]
    pub to: Option<String>,
    /// What the next responder must know.
    #[arg(long, required = true)]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HandoverCommand {
    /// Acknowledge the handovers waiting on an incident (anyone but the
    /// responder who handed over; the name is recorded).
    Ack {
        /// The incident's id (INC-...), or a unique part of it.
        id: String,
    },
}
