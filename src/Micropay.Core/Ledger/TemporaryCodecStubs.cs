// TEMPORARY: replaced by the codec and snapshot work on the snapshot branch before this is committed.
using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

internal static class TransferCodecStub
{
    internal static void EncodeAll(ReadOnlySpan<Transfer> source, Span<byte> destination) => MemoryMarshal.AsBytes(source).CopyTo(destination);

    internal static void DecodeAll(ReadOnlySpan<byte> source, Span<Transfer> destination) => source.CopyTo(MemoryMarshal.AsBytes(destination));
}

internal static class AccountCodecStub
{
    internal static void EncodeAll(ReadOnlySpan<Account> source, Span<byte> destination) => MemoryMarshal.AsBytes(source).CopyTo(destination);

    internal static void DecodeAll(ReadOnlySpan<byte> source, Span<Account> destination) => source.CopyTo(MemoryMarshal.AsBytes(destination));
}

public sealed partial class Ledger
{
    internal long SnapshotSize => throw new NotSupportedException();

    internal void WriteSnapshot(Span<byte> destination) => throw new NotSupportedException();

    internal static Ledger ReadSnapshot(ReadOnlySpan<byte> snapshot, int accountCapacity, int transferCapacity) => throw new NotSupportedException();
}
