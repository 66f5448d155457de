using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Channels;

/// <summary>
/// Throws on behalf of the channel formats' encode and sign paths, so that their bodies stay small and the throw sites
/// do not bloat the callers' machine code.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentException_BufferTooShort(string paramName, int needed) =>
        throw new ArgumentException($"The buffer must hold at least {needed} bytes.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_Field(string paramName, ChannelFormatError rule) =>
        throw new ArgumentException($"{Describe(rule)} ({rule}).", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_WrongLength(string paramName, string what, int expected, int actual) =>
        throw new ArgumentException($"{what} must be exactly {expected} bytes long, not {actual}.", paramName);

    private static string Describe(ChannelFormatError rule) => rule switch
    {
        ChannelFormatError.ZeroSequence => "The sequence number must be at least 1",
        ChannelFormatError.ZeroChannelId => "The channel id must not be 0",
        ChannelFormatError.ZeroAmount => "The cumulative amount must not be 0",
        ChannelFormatError.ZeroValidUntil => "The valid-until time must not be 0",
        ChannelFormatError.ZeroLedgerId => "The ledger id must not be 0",
        ChannelFormatError.ZeroInstanceId => "The ledger instance id must not be 0",
        ChannelFormatError.ZeroAccountId => "The account id must not be 0",
        ChannelFormatError.ReservedAccountId => "The account id is in the range the ledger reserves for its own derived ids (ReservedIds)",
        ChannelFormatError.SameAccounts => "The payee must be another account than the payer",
        ChannelFormatError.ZeroExpiry => "The expiry time must not be 0",
        ChannelFormatError.ZeroChainRoot => "The chain root must not be all zeros",
        ChannelFormatError.ZeroUnitAmount => "The amount per tick must not be 0",
        ChannelFormatError.ZeroChainLength => "The chain length must not be 0",
        ChannelFormatError.ZeroOpenedAt => "The opening time must not be 0",
        ChannelFormatError.ZeroDeposit => "The deposit must not be 0",
        _ => "The value breaks a rule of the format",
    };
}
