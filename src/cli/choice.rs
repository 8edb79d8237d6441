//! The domain's named values (kinds, severities, statuses, channels,
//! divisions...) as clap [`ValueEnum`]s, so `--help` lists them and shell
//! completions offer them. The domain stays free of clap: the impls live
//! here, built from each type's own `ALL` list and `as_str` name.
//!
//! [`choice`] is the parser the arguments use: it offers the same values,
//! and parses with the domain's own `FromStr` (which takes any case, and `_`
//! or a space for `-`), so a wrong value is refused in the domain's words,
//! on one line: `--kind: 'meteor' is not one of: breach, potential, attempted`.

use crate::domain::calendar::Division;
use crate::domain::incident::{
    BreachKind, Channel, DataDestination, Direction, IdentifiedBy, LegacyRequester, NoticeChannel,
    NoticeParty, RcaRequired, Role, RootCauseCategory, Severity, StepStatus, TestClause,
};
use clap::ValueEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use std::ffi::OsStr;
use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

macro_rules! value_enum {
    ($($name:ty),+ $(,)?) => {$(
        impl ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                &<$name>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.as_str()))
            }
        }
    )+};
}

value_enum!(
    BreachKind,
    Severity,
    StepStatus,
    Channel,
    NoticeChannel,
    Direction,
    NoticeParty,
    IdentifiedBy,
    RcaRequired,
    DataDestination,
    RootCauseCategory,
    TestClause,
    Role,
    Division,
);

/// The older `request add --from` spelling: `other` is still recognised
/// (to explain why it is refused) but not offered.
impl ValueEnum for LegacyRequester {
    fn value_variants<'a>() -> &'a [Self] {
        LegacyRequester::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        let value = PossibleValue::new(self.as_str());
        Some(match self {
            LegacyRequester::Other => value.hide(true),
            _ => value,
        })
    }
}

/// Parses a [`ValueEnum`] with its `FromStr`, offering its values to help
/// and completions.
#[derive(Clone, Copy)]
pub struct Choice<T>(PhantomData<fn() -> T>);

/// The parser for an option or argument taking one of `T`'s values.
pub fn choice<T>() -> Choice<T> {
    Choice(PhantomData)
}

/// How an error names the argument: `--kind`, or `VALUE` for a positional.
fn named(arg: Option<&clap::Arg>) -> String {
    match arg {
        Some(arg) => match arg.get_long() {
            Some(long) => format!("--{long}"),
            None => arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().as_str().to_uppercase(), |n| n.to_string()),
        },
        None => "value".to_string(),
    }
}

impl<T> TypedValueParser for Choice<T>
where
    T: ValueEnum + FromStr + Clone + Send + Sync + 'static,
    T::Err: Display,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let name = named(arg);
        let refuse = |message: String| {
            clap::Error::raw(ErrorKind::InvalidValue, format!("{name}: {message}\n")).with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("not valid UTF-8".to_string()))?;
        text.parse::<T>().map_err(|e| refuse(e.to_string()))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value offered parses back to itself: help never lists a value
    /// the parser refuses.
    fn round_trip<T>()
    where
        T: ValueEnum + FromStr + PartialEq + std::fmt::Debug,
    {
        for v in T::value_variants() {
            let name = v.to_possible_value().expect("named").get_name().to_string();
            assert_eq!(name.parse::<T>().ok().as_ref(), Some(v), "{name}");
        }
    }

    #[test]
    fn every_value_offered_parses_back() {
        round_trip::<BreachKind>();
        round_trip::<Severity>();
        round_trip::<StepStatus>();
        round_trip::<Channel>();
        round_trip::<NoticeChannel>();
        round_trip::<Direction>();
        round_trip::<NoticeParty>();
        round_trip::<IdentifiedBy>();
        round_trip::<RcaRequired>();
        round_trip::<DataDestination>();
        round_trip::<LegacyRequester>();
        round_trip::<RootCauseCategory>();
        round_trip::<TestClause>();
        round_trip::<Role>();
        round_trip::<Division>();
    }
}
