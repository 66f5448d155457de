using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>
/// Accounts and transfers cross grain calls as their 128-byte records, one array per batch: one copy and no per-field
/// serialization, and the ledger's own format (the record layout is the library's, 4.1).
/// </summary>
public static class Records
{
    /// <summary>Encodes transfers into one array of 128-byte records.</summary>
    /// <param name="transfers">The transfers.</param>
    /// <returns>The records.</returns>
    public static byte[] Encode(ReadOnlySpan<Transfer> transfers)
    {
        var bytes = new byte[transfers.Length * Transfer.Size];
        for (int i = 0; i < transfers.Length; i++)
        {
            transfers[i].Encode(bytes.AsSpan(i * Transfer.Size, Transfer.Size));
        }

        return bytes;
    }

    /// <summary>Encodes accounts into one array of 128-byte records.</summary>
    /// <param name="accounts">The accounts.</param>
    /// <returns>The records.</returns>
    public static byte[] Encode(ReadOnlySpan<Account> accounts)
    {
        var bytes = new byte[accounts.Length * Account.Size];
        for (int i = 0; i < accounts.Length; i++)
        {
            accounts[i].Encode(bytes.AsSpan(i * Account.Size, Account.Size));
        }

        return bytes;
    }

    /// <summary>Decodes an array of 128-byte transfer records.</summary>
    /// <param name="records">The records.</param>
    /// <returns>The transfers.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of 128, or a record does not parse.</exception>
    public static Transfer[] DecodeTransfers(byte[] records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Length % Transfer.Size != 0)
        {
            throw new ArgumentException($"Transfer records are {Transfer.Size} bytes each; got {records.Length} bytes.", nameof(records));
        }

        var transfers = new Transfer[records.Length / Transfer.Size];
        for (int i = 0; i < transfers.Length; i++)
        {
            if (!Transfer.TryParse(records.AsSpan(i * Transfer.Size, Transfer.Size), out transfers[i]))
            {
                throw new ArgumentException($"Transfer record {i} does not parse.", nameof(records));
            }
        }

        return transfers;
    }

    /// <summary>Decodes an array of 128-byte account records.</summary>
    /// <param name="records">The records.</param>
    /// <returns>The accounts.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of 128, or a record does not parse.</exception>
    public static Account[] DecodeAccounts(byte[] records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Length % Account.Size != 0)
        {
            throw new ArgumentException($"Account records are {Account.Size} bytes each; got {records.Length} bytes.", nameof(records));
        }

        var accounts = new Account[records.Length / Account.Size];
        for (int i = 0; i < accounts.Length; i++)
        {
            if (!Account.TryParse(records.AsSpan(i * Account.Size, Account.Size), out accounts[i]))
            {
                throw new ArgumentException($"Account record {i} does not parse.", nameof(records));
            }
        }

        return accounts;
    }
}
