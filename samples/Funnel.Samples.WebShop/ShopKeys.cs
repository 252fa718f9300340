using System.Security.Cryptography;

namespace Funnel.Samples.WebShop;

/// <summary>Secret keys the shop creates once and keeps in its data folder, like ASP.NET Core's data-protection key ring.</summary>
/// <remarks>
/// A key that changed on every start would break what was signed before the restart: the unsubscribe links in emails
/// already sent, and a payment provider's redelivery of a webhook. In production, configure the keys instead.
/// </remarks>
public static class ShopKeys
{
    /// <summary>Returns the 32-byte key in <paramref name="folder"/>/<paramref name="name"/>, creating it (readable by the owner only) when missing.</summary>
    /// <param name="folder">The data folder; created when missing.</param>
    /// <param name="name">The key's file name.</param>
    /// <returns>The key.</returns>
    public static byte[] LoadOrCreate(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        byte[] key = RandomNumberGenerator.GetBytes(32);
        string temporary = path + "." + Guid.NewGuid().ToString("N");
        File.WriteAllText(temporary, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(temporary, path, overwrite: false); // two instances starting at once keep the first key
        }
        catch (IOException)
        {
            File.Delete(temporary);
        }

        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }
}
