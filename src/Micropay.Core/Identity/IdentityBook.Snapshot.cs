using System.Buffers;
using System.Buffers.Binary;
using Micropay.Core.Ledger;

namespace Micropay.Core.Identity;

/// <content>
/// The key registry as a snapshot section ("identity"). Layout, version 1, little-endian:
/// <code>
/// offset size field
///      0    4 Version        1
///      4    4 KeyCount       keys in registration order, each:
///             1024 Registration    KeyOperation's Register record, with the key's current policy
///                1 Status          KeyStatus
///                3 Reserved        0
///                4 SignCount       a passkey's last accepted counter
///                8 RegisteredAt
///                8 RevokedAt       0 while active
///                8 ChangedAt       the key's last change (its window is as of then)
///                4 WindowCount     then per payment in the window, oldest first:
///                4 Reserved        0
///                     8 At, 8 Reserved (0), 16 Amount
/// </code>
/// </content>
internal sealed partial class IdentityBook
{
    /// <summary>The section's name in the envelope.</summary>
    public const string SectionName = "identity";

    private const uint SnapshotVersion = 1;
    private const int KeyFixedSize = KeyOperation.Size + 1 + 3 + 4 + 8 + 8 + 8 + 4 + 4;
    private const int WindowEntrySize = 32;

    /// <summary>The bytes <see cref="WriteSnapshot"/> writes now.</summary>
    public long SnapshotSize
    {
        get
        {
            long size = ExtensionSectionHeader.Size;
            foreach (KeyState key in _byIndex)
            {
                size += KeyFixedSize + ((long)key.Window.Count * WindowEntrySize);
            }

            return size;
        }
    }

    /// <summary>Writes the section (writer thread, between batches).</summary>
    public void WriteSnapshot(IBufferWriter<byte> destination)
    {
        ExtensionSectionHeader.Write(destination.GetSpan(ExtensionSectionHeader.Size), SnapshotVersion, _byIndex.Count);
        destination.Advance(ExtensionSectionHeader.Size);
        foreach (KeyState key in _byIndex)
        {
            Span<byte> record = destination.GetSpan(KeyFixedSize)[..KeyFixedSize];
            record.Clear();
            KeyOperation registration = key.Ed25519 is { } ed25519
                ? KeyOperation.RegisterEd25519(key.AccountId, ed25519, key.Policy)
                : KeyOperation.RegisterPasskey(key.AccountId, key.Passkey!, key.Policy);
            registration.Encode(record);
            int at = KeyOperation.Size;
            record[at] = (byte)key.Status;
            BinaryPrimitives.WriteUInt32LittleEndian(record[(at + 4)..], key.SignCount);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 8)..], key.RegisteredAt);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 16)..], key.RevokedAt);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 24)..], key.ChangedAt);
            BinaryPrimitives.WriteInt32LittleEndian(record[(at + 32)..], key.Window.Count);
            destination.Advance(KeyFixedSize);
            for (int i = 0; i < key.Window.Count; i++)
            {
                (ulong paidAt, UInt128 amount) = key.Window[i];
                Span<byte> entry = destination.GetSpan(WindowEntrySize)[..WindowEntrySize];
                entry.Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(entry, paidAt);
                BinaryPrimitives.WriteUInt128LittleEndian(entry[16..], amount);
                destination.Advance(WindowEntrySize);
            }
        }
    }

    /// <summary>Restores the registry into a ledger just read from the same snapshot.</summary>
    /// <exception cref="LedgerSnapshotException">The section is malformed (the message names the offset and what is wrong).</exception>
    public static void RestoreSnapshot(LedgerStateMachine ledger, ReadOnlySequence<byte> section)
    {
        // Small next to the ledger's tables (about a kilobyte a key): read it in one piece.
        byte[] bytes = section.ToArray();
        ReadOnlySpan<byte> span = bytes;
        int count = ExtensionSectionHeader.Read(span, SectionName, SnapshotVersion, "keys");

        IdentityBook book = Of(ledger);
        int offset = ExtensionSectionHeader.Size;
        for (int i = 0; i < count; i++)
        {
            if (span.Length - offset < KeyFixedSize)
            {
                throw new LedgerSnapshotException(offset, $"the \"{SectionName}\" section ends inside key {i}");
            }

            ReadOnlySpan<byte> record = span.Slice(offset, KeyFixedSize);
            if (!KeyOperation.TryParse(record[..KeyOperation.Size], out KeyOperation registration, out IdentityFormatError error) ||
                registration.Kind != KeyOperationKind.Register)
            {
                throw new LedgerSnapshotException(offset, $"key {i}'s registration does not parse ({error})");
            }

            int at = KeyOperation.Size;
            var status = (KeyStatus)record[at];
            int windowCount = BinaryPrimitives.ReadInt32LittleEndian(record[(at + 32)..]);
            if (status is not (KeyStatus.Active or KeyStatus.Revoked) || record[(at + 1)..(at + 4)].ContainsAnyExcept((byte)0) ||
                BinaryPrimitives.ReadUInt32LittleEndian(record[(at + 36)..]) != 0 || windowCount < 0 || book._keys.ContainsKey(registration.KeyId))
            {
                throw new LedgerSnapshotException(offset + at, $"key {i}'s state is malformed (status {status}, window {windowCount}, or a duplicate key)");
            }

            var key = new KeyState(registration.KeyId, registration.AccountId, registration.Ed25519Key, registration.Passkey, registration.Policy!, i,
                BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 8)..]))
            {
                Status = status,
                SignCount = BinaryPrimitives.ReadUInt32LittleEndian(record[(at + 4)..]),
                RevokedAt = BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 16)..]),
                ChangedAt = BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 24)..]),
            };
            offset += KeyFixedSize;
            if ((span.Length - offset) / WindowEntrySize < windowCount)
            {
                throw new LedgerSnapshotException(offset, $"the \"{SectionName}\" section ends inside key {i}'s window");
            }

            for (int w = 0; w < windowCount; w++)
            {
                ReadOnlySpan<byte> entry = span.Slice(offset, WindowEntrySize);
                if (BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]) != 0)
                {
                    throw new LedgerSnapshotException(offset, $"key {i}'s window entry {w} has a reserved field that is not zero");
                }

                UInt128 amount = BinaryPrimitives.ReadUInt128LittleEndian(entry[16..]);
                if (amount > UInt128.MaxValue - key.Window.Sum)
                {
                    // A lowered limit may leave a window above it, but never above what 128 bits hold.
                    throw new LedgerSnapshotException(offset, $"key {i}'s window adds up to more than 128 bits hold");
                }

                key.Window.Add(BinaryPrimitives.ReadUInt64LittleEndian(entry), amount);
                offset += WindowEntrySize;
            }

            book.Add(key);
        }

        if (offset != span.Length)
        {
            throw new LedgerSnapshotException(offset, $"the \"{SectionName}\" section has {span.Length - offset} bytes after its last key");
        }
    }
}
