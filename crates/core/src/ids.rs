//! Identifiers. Numbers for things the back office numbers (compounds, staff, residents, service items); UUIDs for
//! things that are born on many machines at once (tasks, devices, events), so that ids chosen offline never collide
//! and a retried upload is recognised by its id.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! number_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A time-ordered UUID v7 from a time and 10 random bytes the caller supplies (core reads no clock).
            pub fn v7(unix_ms: u64, random: [u8; 10]) -> Self {
                Self(uuid::Builder::from_unix_timestamp_millis(unix_ms, &random).into_uuid())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

impl TaskId {
    /// The short code printed on a packet label and shown in the app: the last six hex digits of the id (its random
    /// part; the leading digits of a v7 id are the creation time and repeat across a batch), as `ABC-DEF`.
    pub fn short(&self) -> String {
        let hex = self.0.simple().to_string().to_ascii_uppercase();
        let tail = &hex[hex.len() - 6..];
        format!("{}-{}", &tail[..3], &tail[3..])
    }
}

number_id!(
    /// A residential compound (小区).
    CompoundId,
    "C"
);
number_id!(
    /// A member of staff: a Jing Xiaoer team member or a coordinator.
    StaffId,
    "S"
);
number_id!(
    /// A resident known to the centre.
    ResidentId,
    "R"
);
number_id!(
    /// An item of the centre's service catalogue (事项).
    ServiceItemId,
    "I"
);

uuid_id!(
    /// A task: one delivery or one pickup.
    TaskId
);
uuid_id!(
    /// A staff phone enrolled at the centre.
    DeviceId
);
uuid_id!(
    /// One event, chosen by whoever records it (UUID v7).
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_ids_sort_by_time() {
        let a = EventId::v7(1_000, [9; 10]);
        let b = EventId::v7(2_000, [0; 10]);
        assert!(a < b);
        assert_eq!(a.0.get_version_num(), 7);
    }

    #[test]
    fn short_task_codes_come_from_the_random_tail() {
        let a = TaskId::v7(1_700_000_000_000, [0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xef]);
        assert_eq!(a.short(), "ABC-DEF");
        let b = TaskId::v7(1_700_000_000_000, [0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xee]);
        assert_ne!(a.short(), b.short());
    }

    #[test]
    fn numeric_ids_print_with_their_prefix() {
        assert_eq!(CompoundId(3).to_string(), "C3");
        assert_eq!(StaffId(12).to_string(), "S12");
    }
}
