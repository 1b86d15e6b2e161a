package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's Porter stemmer for English (Encroachments and encroachment share a stem); expects lower case. */
@NamedComponent("eoffice_english_stem")
public class EnglishStem implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new PorterStemFilter(input);
    }
}
