//! API enums that mirror one of the actors' enums variant for variant. The wire keeps types of its
//! own (their names, docs and OpenAPI schema are the API's), and the conversions are written once
//! here instead of a match per direction per enum: a variant added on one side only stops the
//! build.

/// Declares `$name` with the given attributes and variants, and `From<$source>` for it; with
/// `from and into`, `From<$name>` for `$source` too (for enums a client also sends).
macro_rules! mirror_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident from and into $source:path {
            $($(#[$variant_meta:meta])* $variant:ident,)+
        }
    ) => {
        $crate::http::mirror::mirror_enum! {
            $(#[$meta])*
            pub enum $name from $source {
                $($(#[$variant_meta])* $variant,)+
            }
        }

        impl From<$name> for $source {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant,)+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident from $source:path {
            $($(#[$variant_meta:meta])* $variant:ident,)+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl From<$source> for $name {
            fn from(value: $source) -> Self {
                type Source = $source;
                match value {
                    $(Source::$variant => Self::$variant,)+
                }
            }
        }
    };
}

pub(crate) use mirror_enum;
