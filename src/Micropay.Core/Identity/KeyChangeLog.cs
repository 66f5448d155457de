namespace Micropay.Core.Identity;

/// <summary>
/// What one batch changed in the key registry (a registration, a policy, a revocation, a payment in a key's window), so
/// that the engine publishes exactly those keys once the batch is released. Written by the writer thread, read by the
/// publisher; reused from batch to batch, so it allocates only when it grows.
/// </summary>
internal sealed class KeyChangeLog
{
    private KeyChange[] _entries = new KeyChange[16];

    /// <summary>The changes logged since <see cref="Clear"/>.</summary>
    public ReadOnlySpan<KeyChange> Entries => _entries.AsSpan(0, Count);

    /// <summary>How many.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Logs a key's state after a change (at <see cref="KeyState.ChangedAt"/>): once per key and batch, its entry
    /// overwritten by later changes, so a batch of a thousand orders by one key publishes one entry.
    /// </summary>
    public void Add(KeyState key)
    {
        var change = new KeyChange(key.KeyId, key.AccountId, key.Kind, key.Status, key.Policy, key.Window.Sum, key.ChangedAt);

        // The key's slot from its last change: this batch's entry when it still names the key (a cleared log's slots
        // are reused by other keys, or lie past Count).
        int slot = key.LogSlot;
        if (slot >= 0 && slot < Count && _entries[slot].KeyId == key.KeyId)
        {
            _entries[slot] = change;
            return;
        }

        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, Count * 2);
        }

        key.LogSlot = Count;
        _entries[Count++] = change;
    }

    /// <summary>Forgets every change (the batch was published).</summary>
    public void Clear()
    {
        // The entries hold policies: cleared so a reused log keeps no old policy alive.
        _entries.AsSpan(0, Count).Clear();
        Count = 0;
    }
}

/// <summary>A key's state after a change.</summary>
/// <param name="KeyId">The key.</param>
/// <param name="AccountId">Its account.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Status">Its status.</param>
/// <param name="Policy">Its policy.</param>
/// <param name="SpentInWindow">What it spent in its window, as of <paramref name="AsOf"/>.</param>
/// <param name="AsOf">The ledger time of the change.</param>
internal readonly record struct KeyChange(UInt128 KeyId, UInt128 AccountId, KeyKind Kind, KeyStatus Status, SpendingPolicy Policy, UInt128 SpentInWindow, ulong AsOf);
