package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's ASCIIFoldingFilter: accented Latin letters as plain ones (ā = a), for romanised Hindi. */
@NamedComponent("eoffice_ascii_folding")
public class AsciiFolding implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new ASCIIFoldingFilter(input);
    }

    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
