using System.Collections.Concurrent;
using Micropay.Core.Identity;

namespace Micropay.Core.Engine;

/// <summary>
/// The registered keys as of the last released batch: updated by the publisher thread from each batch's
/// <see cref="KeyChangeLog"/> once the batch is durable, read by any thread without locks (as <see cref="PublishedChannels"/>).
/// </summary>
/// <remarks>
/// <para>
/// Invariants: a key appears here only once a batch that registered it was released; each record's version is odd
/// exactly while the publisher writes it. Records are created once per key and updated in place, so the steady path
/// allocates nothing.
/// </para>
/// <para>
/// Memory ordering (per record, a seqlock): the publisher makes the version odd with an interlocked increment (a full
/// fence), writes the fields, and release-stores the even version. A reader acquire-loads the version, copies the
/// fields, issues a full fence and loads the version again: equal and even means the copy is whole. Records are added
/// to the dictionary after their fields are written.
/// </para>
/// </remarks>
internal sealed class PublishedKeys
{
    // Writes: the publisher thread (and the engine's constructor, before its threads start). Reads: any thread.
    private readonly ConcurrentDictionary<UInt128, KeyRecord> _keys = new();

    /// <summary>Publishes a released batch's changes. Publisher thread only.</summary>
    public void Apply(KeyChangeLog log)
    {
        foreach (ref readonly KeyChange change in log.Entries)
        {
            if (_keys.TryGetValue(change.KeyId, out KeyRecord? record))
            {
                record.Write(change);
                continue;
            }

            record = new KeyRecord();
            record.Write(change);
            _keys[change.KeyId] = record;
        }
    }

    /// <summary>Publishes a recovered key (before the engine's threads start).</summary>
    public void AddRecovered(KeyChange change) => Apply(change);

    /// <summary>A key as of a released batch.</summary>
    public bool TryGet(UInt128 keyId, out KeyInfo info)
    {
        if (_keys.TryGetValue(keyId, out KeyRecord? record))
        {
            info = record.Read(keyId);
            return true;
        }

        info = default;
        return false;
    }

    private void Apply(KeyChange change)
    {
        var record = new KeyRecord();
        record.Write(change);
        _keys[change.KeyId] = record;
    }

    private sealed class KeyRecord
    {
        private int _version;
        private UInt128 _accountId;
        private KeyKind _kind;
        private KeyStatus _status;
        private SpendingPolicy _policy = SpendingPolicy.Unlimited;
        private UInt128 _spent;
        private ulong _asOf;

        public void Write(in KeyChange change)
        {
            Interlocked.Increment(ref _version);
            _accountId = change.AccountId;
            _kind = change.Kind;
            _status = change.Status;
            _policy = change.Policy;
            _spent = change.SpentInWindow;
            _asOf = change.AsOf;
            Volatile.Write(ref _version, _version + 1);
        }

        public KeyInfo Read(UInt128 keyId)
        {
            var spinner = default(SpinWait);
            while (true)
            {
                int before = Volatile.Read(ref _version);
                var info = new KeyInfo(keyId, _accountId, _kind, _status, _policy, _spent, _asOf);
                Interlocked.MemoryBarrier();
                if ((before & 1) == 0 && before == Volatile.Read(ref _version))
                {
                    return info;
                }

                spinner.SpinOnce();
            }
        }
    }
}
