//! Where a message comes from, as the receiving program tells cleanup:
//! the client, the protocol, the MAIL FROM parameters, and whether
//! addresses in its headers may be rewritten.

use address::rewrite::Context;

/// The client and session a message arrived over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Verified client host name, or `unknown`.
    pub client_name: String,
    /// The PTR name whether or not it verified, or `unknown`.
    pub reverse_client_name: String,
    pub client_address: String,
    pub client_port: u16,
    /// The HELO/EHLO argument, if the client gave one.
    pub helo: Option<String>,
    /// `SMTP`, `ESMTP`, `ESMTPS`, ... as in the `Received:` header.
    pub protocol: String,
    /// In which context addresses in headers are completed and mapped
    /// (`local_header_rewrite_clients`, `remote_header_rewrite_domain`);
    /// `None` leaves header addresses alone and adds no missing headers
    /// unless `always_add_missing_headers` says so.
    pub header_rewrite: Option<Context>,
}

impl Origin {
    /// `name[address]`, how log lines name the client.
    pub fn log_name(&self) -> String {
        format!("{}[{}]", self.client_name, self.client_address)
    }
}

/// `BODY=` of MAIL FROM (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    SevenBit,
    EightBitMime,
}

impl BodyType {
    /// The keyword, as the queue file and `postcat` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
        }
    }
}

/// `RET=` of MAIL FROM (RFC 3461).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Full,
    Headers,
}

impl Ret {
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }
    }
}

/// The MAIL FROM parameters cleanup records with the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderParams {
    /// `SIZE=`, the client's estimate.
    pub size: Option<u64>,
    pub body: Option<BodyType>,
    pub smtputf8: bool,
    pub ret: Option<Ret>,
    /// `ENVID=`, xtext-decoded.
    pub envid: Option<String>,
}
