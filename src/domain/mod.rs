//! The pure domain: incidents, clocks, the Working-Day calendar and playbooks.
//! Nothing in here touches a terminal, the filesystem or the network.
pub mod incident;
pub mod when;
pub mod clock;
