namespace Funnel;

/// <summary>Checks shared by the validators of stored text fields.</summary>
internal static class TextRules
{
    /// <summary>Returns whether <paramref name="text"/> holds a control character (Unicode Cc), other than tab, CR and LF when <paramref name="allowLineBreaks"/> is set.</summary>
    public static bool HasControl(string text, bool allowLineBreaks)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c) && !(allowLineBreaks && c is '\t' or '\r' or '\n'))
            {
                return true;
            }
        }

        return false;
    }
}
