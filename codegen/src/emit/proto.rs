//! The `kuber_models::proto::Message` impls of the joined definitions ([`crate::proto_join`]):
//! each field is one call of a small generic helper of the runtime (`proto::wire`), so an impl
//! is a list of calls and costs little to compile.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::TypeDef;
use crate::proto_join::{Codec, Joined, MessageJoin, Shape, Slot};

/// What `kuber_models::special::JSONSchemaPropsOr*` hold.
const SCHEMA_PROPS: &str =
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

fn codec(c: Codec) -> TokenStream {
    match c {
        Codec::Std => quote!(w::Std),
        Codec::Items => quote!(w::Items),
        Codec::Duration => quote!(w::Duration),
        Codec::Empty => quote!(w::Empty),
    }
}

fn encode_field(j: &Joined) -> TokenStream {
    let n = Literal::u32_unsuffixed(j.number);
    let f = format_ident!("{}", j.rust);
    let c = codec(j.codec);
    match j.shape {
        Shape::Required => quote!(w::req(b, #n, &self.#f, #c);),
        Shape::Optional => {
            let zero = j.write_zero;
            quote!(w::opt(b, #n, &self.#f, #zero, #c);)
        }
        Shape::Vec => quote!(w::list(b, #n, &self.#f, #c);),
        Shape::OptVec => quote!(w::opt_list(b, #n, &self.#f, #c);),
        Shape::Map => quote!(w::map(b, #n, &self.#f, #c);),
        Shape::OptMap => quote!(w::opt_map(b, #n, &self.#f, #c);),
    }
}

/// gogo writes a message's fields by field number, not in `.proto` order (`projected = 26` of
/// `VolumeSource` is declared before 24 and 25, and written after them).
fn encode_slots(slots: &[Slot]) -> TokenStream {
    let mut sorted: Vec<&Slot> = slots.iter().collect();
    sorted.sort_by_key(|s| s.number());
    let mut out = TokenStream::new();
    for s in sorted {
        match s {
            Slot::Field(j) => out.extend(encode_field(j)),
            Slot::Embedded { number, slots, .. } => {
                let n = Literal::u32_unsuffixed(*number);
                let inner = encode_slots(slots);
                out.extend(quote!(w::embedded(b, #n, |b| { #inner });));
            }
            Slot::ProtoOnly { .. } => {}
        }
    }
    out
}

fn decode_field(j: &Joined) -> TokenStream {
    let n = Literal::u32_unsuffixed(j.number);
    let f = format_ident!("{}", j.rust);
    let c = codec(j.codec);
    let call = match j.shape {
        Shape::Required => quote!(w::set_req(&mut self.#f, t, b, d, #c)),
        Shape::Optional => {
            let zero_none = j.zero_none;
            quote!(w::set_opt(&mut self.#f, t, b, d, #zero_none, #c))
        }
        Shape::Vec => quote!(w::push(&mut self.#f, t, b, d, #c)),
        Shape::OptVec => quote!(w::push_opt(&mut self.#f, t, b, d, #c)),
        Shape::Map => quote!(w::entry(&mut self.#f, t, b, d, #c)),
        Shape::OptMap => quote!(w::entry_opt(&mut self.#f, t, b, d, #c)),
    };
    quote!(#n => #call,)
}

/// The match arms of a message's fields, and the helper fns of its embedded messages (named
/// after their field numbers from the top: `pb_merge_2_1`).
fn decode_slots(slots: &[Slot], path: &str, helpers: &mut TokenStream) -> TokenStream {
    let mut arms = TokenStream::new();
    for s in slots {
        match s {
            Slot::Field(j) => arms.extend(decode_field(j)),
            Slot::Embedded { number, slots, .. } => {
                let n = Literal::u32_unsuffixed(*number);
                let path = format!("{path}_{number}");
                let merge = format_ident!("pb_merge{path}");
                let name = format_ident!("pb_name{path}");
                arms.extend(
                    quote!(#n => w::embedded_in(self, t, b, d, Self::#merge, Self::#name),),
                );
                let inner = decode_slots(slots, &path, helpers);
                let names = name_fn(slots);
                helpers.extend(quote! {
                    #[inline]
                    fn #merge(&mut self, n: u32, t: crate::proto::wire::WireType, b: &mut &[u8], d: u32) -> Result<(), crate::proto::DecodeError> {
                        use crate::proto::wire as w;
                        match n {
                            #inner
                            _ => w::skip_field(t, b),
                        }
                    }
                    #[inline]
                    fn #name(n: u32) -> Option<&'static str> { #names }
                });
            }
            Slot::ProtoOnly { .. } => {}
        }
    }
    arms
}

fn name_fn(slots: &[Slot]) -> TokenStream {
    let arms = slots.iter().filter_map(|s| {
        let (n, name) = match s {
            Slot::Field(j) => (j.number, &j.proto),
            Slot::Embedded { number, proto, .. } => (*number, proto),
            Slot::ProtoOnly { .. } => return None,
        };
        let n = Literal::u32_unsuffixed(n);
        Some(quote!(#n => #name,))
    });
    quote!(Some(match n { #(#arms)* _ => return None, }))
}

fn fills(slots: &[Slot], out: &mut Vec<TokenStream>) {
    for s in slots {
        match s {
            Slot::Field(j) if j.fill => {
                let f = format_ident!("{}", j.rust);
                out.push(quote!(w::fill(&mut self.#f);));
            }
            Slot::Embedded { slots, .. } => fills(slots, out),
            _ => {}
        }
    }
}

fn uses_depth(slots: &[Slot]) -> bool {
    slots
        .iter()
        .any(|s| matches!(s, Slot::Field(_) | Slot::Embedded { .. }))
}

/// The `Message` impl of one definition (and the helpers of its embedded messages). Its methods
/// are `#[inline]`: like serde's generic impls they are then compiled only in the crates that use
/// them, for the types they use, not for every type in kuber-models' own build.
pub fn message_impl(def: &TypeDef, join: &MessageJoin) -> TokenStream {
    let id = format_ident!("{}", def.ident);
    let name = &def.name;
    let enc = encode_slots(&join.slots);
    let mut helpers = TokenStream::new();
    let arms = decode_slots(&join.slots, "", &mut helpers);
    let names = name_fn(&join.slots);
    let d = if uses_depth(&join.slots) {
        quote!(d)
    } else {
        quote!(_d)
    };
    let mut fill = Vec::new();
    fills(&join.slots, &mut fill);
    let finish = (!fill.is_empty()).then(|| {
        quote! {
            #[inline]
            fn finish(&mut self) {
                use crate::proto::wire as w;
                #(#fill)*
            }
        }
    });
    let type_meta = join.type_meta.as_ref().map(|(a, k)| {
        let (a, k) = (format_ident!("{a}"), format_ident!("{k}"));
        quote! {
            #[inline]
            fn set_type_meta(&mut self, api_version: &str, kind: &str) {
                crate::proto::wire::type_meta(&mut self.#a, api_version);
                crate::proto::wire::type_meta(&mut self.#k, kind);
            }
        }
    });
    let helpers = (!helpers.is_empty()).then(|| {
        quote! {
            #[cfg(feature = "protobuf")]
            impl #id { #helpers }
        }
    });
    // The hand-written schema-or-X unions hold this definition: their impls come with it.
    let unions = (def.name == SCHEMA_PROPS).then(|| {
        quote! {
            #[cfg(feature = "protobuf")]
            crate::proto::schema_unions!();
        }
    });
    quote! {
        #unions
        #[cfg(feature = "protobuf")]
        impl crate::proto::Message for #id {
            const NAME: &'static str = #name;
            #[inline]
            fn encode(&self, b: &mut Vec<u8>) {
                use crate::proto::wire as w;
                #enc
                w::unknown(b, &self.unknown_fields);
            }
            #[inline]
            fn merge_field(&mut self, n: u32, t: crate::proto::wire::WireType, b: &mut &[u8], #d: u32) -> Result<(), crate::proto::DecodeError> {
                use crate::proto::wire as w;
                match n {
                    #arms
                    _ => w::unknown_in(&mut self.unknown_fields, n, t, b),
                }
            }
            #[inline]
            fn field_name(n: u32) -> Option<&'static str> { #names }
            #finish
            #type_meta
        }
        #helpers
    }
}
