namespace PayPerRequest.Server;

/// <summary>The answer to a channel open (<c>201 Created</c>): the channel, and the ledger's word that it holds the deposit.</summary>
/// <param name="ChannelId">The channel id, 32 hex digits (also the escrow account's id).</param>
/// <param name="Deposit">The deposit in escrow, in the ledger's smallest unit (a decimal string: it is 128-bit).</param>
/// <param name="Certificate">
/// The base64 of the ledger's <c>ChannelCertificate</c> (272 bytes), signed with the challenge's operator key: a client
/// checks it to know the server's ledger really holds its deposit for this payee.
/// </param>
public sealed record OpenedChannel(string ChannelId, string Deposit, string Certificate);
