using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Storage.PostgreSql;

// Throws out of line, so the append path stays small.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowFenced(string ledger, long ownEpoch, long newerEpoch) =>
        throw new LedgerStoreException(
            newerEpoch > 0
                ? $"Fenced: another writer opened ledger '{ledger}' at epoch {newerEpoch} (this store holds epoch {ownEpoch}), so this store may not append any more; nothing was written. Open a new store to take the ledger back."
                : $"Fenced: another writer opened ledger '{ledger}' after this store's epoch {ownEpoch}, so this store may not append any more; nothing was written. Open a new store to take the ledger back.");

    [DoesNotReturn]
    public static void ThrowBroken(string ledger, string why) =>
        throw new LedgerStoreException(
            $"An earlier append to ledger '{ledger}' failed ({why}), so whether it is durable is unknown: dispose this store and open a new one, which finds out.");

    [DoesNotReturn]
    public static void ThrowClosed(string ledger) => throw new LedgerStoreException($"The store of ledger '{ledger}' is closed.");

    [DoesNotReturn]
    public static void ThrowNotOpen(string ledger) =>
        throw new InvalidOperationException($"The store of ledger '{ledger}' is not open: call OpenAsync first.");
}
