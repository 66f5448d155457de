namespace Micropay.Core.Channels;

/// <summary>Why bytes are not a well-formed <see cref="Tick"/>.</summary>
public enum TickFormatError
{
    /// <summary>The bytes are a well-formed tick.</summary>
    None = 0,

    /// <summary>Not exactly <see cref="Tick.Size"/> bytes.</summary>
    WrongLength = 1,

    /// <summary>A version this library does not know.</summary>
    UnknownVersion = 2,

    /// <summary>A kind other than 2 (hash-chain tick).</summary>
    UnknownKind = 3,

    /// <summary>A reserved byte is not zero.</summary>
    ReservedNotZero = 4,

    /// <summary>The index is 0 (the root is index 0 and is never revealed as a payment).</summary>
    ZeroIndex = 5,

    /// <summary>The channel id is 0.</summary>
    ZeroChannelId = 6,
}
