"""Reference tables of the marketplace shape: Brazil's states and cities, Olist's product
categories, the file layout, and the words customers write in their reviews.

Cities are written as Olist writes them (lowercase, no accents); each has a zip prefix range
near its real one, so a zip prefix points at one city and one state, as in the real export.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The seven files of the public Olist export, with their headers in Olist's own order and
# spelling ("lenght" is theirs).
FILES: dict[str, tuple[str, ...]] = {
    "olist_orders_dataset.csv": (
        "order_id",
        "customer_id",
        "order_status",
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ),
    "olist_order_items_dataset.csv": (
        "order_id",
        "order_item_id",
        "product_id",
        "seller_id",
        "shipping_limit_date",
        "price",
        "freight_value",
    ),
    "olist_customers_dataset.csv": (
        "customer_id",
        "customer_unique_id",
        "customer_zip_code_prefix",
        "customer_city",
        "customer_state",
    ),
    "olist_order_payments_dataset.csv": (
        "order_id",
        "payment_sequential",
        "payment_type",
        "payment_installments",
        "payment_value",
    ),
    "olist_order_reviews_dataset.csv": (
        "review_id",
        "order_id",
        "review_score",
        "review_comment_title",
        "review_comment_message",
        "review_creation_date",
        "review_answer_timestamp",
    ),
    "olist_products_dataset.csv": (
        "product_id",
        "product_category_name",
        "product_name_lenght",
        "product_description_lenght",
        "product_photos_qty",
        "product_weight_g",
        "product_length_cm",
        "product_height_cm",
        "product_width_cm",
    ),
    "olist_sellers_dataset.csv": (
        "seller_id",
        "seller_zip_code_prefix",
        "seller_city",
        "seller_state",
    ),
}

TIMEZONE = "America/Sao_Paulo"

# Order statuses and their rough shares in the real export.
STATUSES = (
    "delivered",
    "shipped",
    "canceled",
    "unavailable",
    "invoiced",
    "processing",
    "created",
    "approved",
)
STATUS_SHARE = np.array([0.965, 0.011, 0.006, 0.006, 0.003, 0.003, 0.003, 0.003])

PAYMENT_TYPES = ("credit_card", "boleto", "voucher", "debit_card")
PAYMENT_SHARE = np.array([0.74, 0.19, 0.055, 0.015])
# Card instalments: half pay at once, the rest spread it over 2-10 months.
INSTALLMENTS = np.arange(1, 11)
INSTALLMENT_SHARE = np.array([0.48, 0.12, 0.10, 0.07, 0.05, 0.04, 0.02, 0.05, 0.01, 0.06])

# Share of a day's purchases in each local hour: quiet nights, busy office hours and evenings.
HOURLY = np.array(
    [
        *(2.4, 1.1, 0.5, 0.3, 0.2, 0.2, 0.5, 1.3, 3.1, 4.8, 6.3, 6.6),  # 00-11
        *(6.0, 6.5, 6.8, 6.5, 6.4, 6.1, 5.8, 5.9, 6.2, 6.3, 6.2, 4.7),  # 12-23
    ]
)
WEEKDAY_FACTOR = np.array([1.15, 1.15, 1.1, 1.05, 1.0, 0.75, 0.8])  # Monday first


@dataclass(frozen=True)
class State:
    code: str
    customer_share: float  # per cent of customers
    seller_share: float  # per cent of sellers
    cities: tuple[tuple[str, float, int, int], ...]  # name, weight, first and last zip prefix


STATES: tuple[State, ...] = (
    State(
        "SP",
        42.0,
        60.0,
        (
            ("sao paulo", 38, 1000, 5999),
            ("campinas", 6, 13000, 13149),
            ("guarulhos", 5, 7000, 7399),
            ("santo andre", 3, 9000, 9299),
            ("sao bernardo do campo", 3, 9600, 9899),
            ("osasco", 3, 6000, 6299),
            ("santos", 2.5, 11000, 11099),
            ("sorocaba", 2.5, 18000, 18109),
            ("ribeirao preto", 2.5, 14000, 14114),
            ("sao jose dos campos", 2.5, 12200, 12249),
            ("jundiai", 2, 13200, 13219),
            ("barueri", 2, 6400, 6499),
            ("mogi das cruzes", 1.5, 8700, 8899),
            ("piracicaba", 1.5, 13400, 13429),
            ("bauru", 1.2, 17000, 17109),
            ("sao jose do rio preto", 1.2, 15000, 15099),
            ("taubate", 1, 12000, 12119),
            ("americana", 1, 13465, 13479),
            ("diadema", 1, 9900, 9999),
            ("carapicuiba", 1, 6300, 6399),
        ),
    ),
    State(
        "RJ",
        13.0,
        4.5,
        (
            ("rio de janeiro", 55, 20000, 23799),
            ("niteroi", 10, 24000, 24399),
            ("sao goncalo", 6, 24400, 24799),
            ("nova iguacu", 5, 26000, 26099),
            ("duque de caxias", 5, 25000, 25299),
            ("petropolis", 4, 25600, 25779),
            ("campos dos goytacazes", 3, 28000, 28099),
            ("volta redonda", 3, 27200, 27299),
            ("macae", 2, 27900, 27999),
            ("teresopolis", 2, 25950, 25999),
            ("cabo frio", 1.5, 28900, 28949),
            ("resende", 1.5, 27500, 27599),
        ),
    ),
    State(
        "MG",
        12.0,
        8.0,
        (
            ("belo horizonte", 30, 30000, 31999),
            ("contagem", 6, 32000, 32399),
            ("juiz de fora", 6, 36000, 36099),
            ("uberlandia", 6, 38400, 38414),
            ("betim", 3, 32600, 32699),
            ("montes claros", 3, 39400, 39409),
            ("uberaba", 3, 38000, 38099),
            ("divinopolis", 2.5, 35500, 35509),
            ("ipatinga", 2, 35160, 35164),
            ("governador valadares", 2, 35010, 35099),
            ("pocos de caldas", 2, 37700, 37719),
            ("sete lagoas", 2, 35700, 35704),
            ("varginha", 1.5, 37000, 37099),
            ("nova lima", 1.5, 34000, 34099),
            ("lavras", 1, 37200, 37209),
        ),
    ),
    State(
        "RS",
        5.5,
        4.0,
        (
            ("porto alegre", 40, 90000, 91999),
            ("caxias do sul", 10, 95000, 95099),
            ("canoas", 7, 92000, 92499),
            ("pelotas", 6, 96000, 96099),
            ("santa maria", 6, 97000, 97119),
            ("novo hamburgo", 5, 93300, 93599),
            ("sao leopoldo", 4, 93000, 93199),
            ("passo fundo", 4, 99000, 99099),
            ("gravatai", 3, 94000, 94199),
        ),
    ),
    State(
        "PR",
        5.0,
        7.5,
        (
            ("curitiba", 40, 80000, 82999),
            ("londrina", 10, 86000, 86099),
            ("maringa", 8, 87000, 87119),
            ("ponta grossa", 5, 84000, 84099),
            ("cascavel", 5, 85800, 85829),
            ("sao jose dos pinhais", 5, 83000, 83099),
            ("foz do iguacu", 4, 85850, 85869),
            ("colombo", 3, 83400, 83419),
            ("guarapuava", 3, 85000, 85099),
        ),
    ),
    State(
        "SC",
        3.6,
        4.0,
        (
            ("florianopolis", 22, 88000, 88099),
            ("joinville", 15, 89200, 89239),
            ("blumenau", 12, 89000, 89099),
            ("sao jose", 8, 88100, 88125),
            ("itajai", 6, 88300, 88319),
            ("chapeco", 6, 89800, 89819),
            ("criciuma", 6, 88800, 88819),
            ("balneario camboriu", 6, 88330, 88339),
            ("palhoca", 5, 88130, 88139),
            ("jaragua do sul", 5, 89250, 89269),
            ("lages", 4, 88500, 88529),
        ),
    ),
    State(
        "BA",
        3.4,
        0.8,
        (
            ("salvador", 45, 40000, 42599),
            ("feira de santana", 10, 44000, 44099),
            ("vitoria da conquista", 7, 45000, 45099),
            ("lauro de freitas", 6, 42700, 42749),
            ("ilheus", 5, 45650, 45659),
            ("itabuna", 5, 45600, 45612),
            ("camacari", 4, 42800, 42849),
            ("juazeiro", 4, 48900, 48909),
            ("barreiras", 3, 47800, 47809),
            ("porto seguro", 3, 45810, 45819),
        ),
    ),
    State(
        "DF",
        2.1,
        1.0,
        (
            ("brasilia", 80, 70000, 71999),
            ("taguatinga", 7, 72000, 72199),
            ("ceilandia", 5, 72200, 72299),
            ("gama", 4, 72400, 72499),
            ("sobradinho", 4, 73000, 73199),
        ),
    ),
    State(
        "ES",
        2.0,
        0.8,
        (
            ("vitoria", 30, 29000, 29099),
            ("vila velha", 25, 29100, 29129),
            ("serra", 18, 29160, 29179),
            ("cariacica", 12, 29140, 29159),
            ("cachoeiro de itapemirim", 8, 29300, 29319),
            ("linhares", 7, 29900, 29909),
        ),
    ),
    State(
        "GO",
        2.0,
        1.3,
        (
            ("goiania", 55, 74000, 74899),
            ("aparecida de goiania", 15, 74900, 74999),
            ("anapolis", 12, 75000, 75149),
            ("rio verde", 7, 75900, 75909),
            ("luziania", 6, 72800, 72899),
            ("catalao", 5, 75700, 75709),
        ),
    ),
    State(
        "PE",
        1.7,
        0.3,
        (
            ("recife", 50, 50000, 52999),
            ("jaboatao dos guararapes", 15, 54000, 54499),
            ("olinda", 12, 53000, 53299),
            ("caruaru", 10, 55000, 55099),
            ("petrolina", 8, 56300, 56339),
            ("paulista", 5, 53400, 53499),
        ),
    ),
    State(
        "CE",
        1.3,
        0.4,
        (
            ("fortaleza", 70, 60000, 61599),
            ("juazeiro do norte", 10, 63000, 63099),
            ("caucaia", 8, 61600, 61699),
            ("sobral", 7, 62000, 62099),
            ("maracanau", 5, 61900, 61939),
        ),
    ),
    State(
        "PA",
        1.0,
        0.1,
        (
            ("belem", 55, 66000, 66999),
            ("ananindeua", 15, 67000, 67199),
            ("santarem", 10, 68000, 68109),
            ("maraba", 10, 68500, 68509),
            ("castanhal", 10, 68740, 68749),
        ),
    ),
    State(
        "MT",
        0.9,
        0.4,
        (
            ("cuiaba", 50, 78000, 78109),
            ("varzea grande", 20, 78110, 78159),
            ("rondonopolis", 15, 78700, 78749),
            ("sinop", 15, 78550, 78559),
        ),
    ),
    State(
        "MA",
        0.75,
        0.1,
        (
            ("sao luis", 65, 65000, 65099),
            ("imperatriz", 25, 65900, 65919),
            ("caxias", 10, 65600, 65609),
        ),
    ),
    State(
        "MS",
        0.7,
        0.3,
        (
            ("campo grande", 65, 79000, 79129),
            ("dourados", 20, 79800, 79849),
            ("tres lagoas", 15, 79600, 79649),
        ),
    ),
    State(
        "PB", 0.55, 0.2, (("joao pessoa", 65, 58000, 58099), ("campina grande", 35, 58400, 58449))
    ),
    State("PI", 0.5, 0.1, (("teresina", 80, 64000, 64099), ("parnaiba", 20, 64200, 64219))),
    State("RN", 0.5, 0.2, (("natal", 75, 59000, 59159), ("mossoro", 25, 59600, 59649))),
    State("AL", 0.4, 0.05, (("maceio", 80, 57000, 57099), ("arapiraca", 20, 57300, 57319))),
    State(
        "SE",
        0.35,
        0.05,
        (("aracaju", 80, 49000, 49099), ("nossa senhora do socorro", 20, 49160, 49169)),
    ),
    State("TO", 0.3, 0.05, (("palmas", 60, 77000, 77099), ("araguaina", 40, 77800, 77829))),
    State("RO", 0.25, 0.1, (("porto velho", 60, 76800, 76849), ("ji-parana", 40, 76900, 76919))),
    State("AM", 0.15, 0.05, (("manaus", 100, 69000, 69099),)),
    State("AC", 0.08, 0.02, (("rio branco", 100, 69900, 69924),)),
    State("AP", 0.07, 0.01, (("macapa", 85, 68900, 68924), ("santana", 15, 68925, 68929))),
    State("RR", 0.05, 0.01, (("boa vista", 100, 69300, 69339),)),
)

# Far from the sellers of the south-east: the north and the north-east, where parcels wait for
# connections and deliveries run late more often.
REMOTE_STATES = frozenset(
    {"AM", "RR", "AP", "PA", "MA", "CE", "PI", "RN", "PB", "PE", "AL", "SE", "BA", "AC", "RO", "TO"}
)

# Olist's category names, their share of products and a typical weight in grams.
CATEGORIES: tuple[tuple[str, float, int], ...] = (
    ("cama_mesa_banho", 10.0, 1500),
    ("beleza_saude", 9.0, 400),
    ("esporte_lazer", 8.0, 900),
    ("moveis_decoracao", 7.5, 2500),
    ("informatica_acessorios", 7.0, 600),
    ("utilidades_domesticas", 6.5, 1200),
    ("relogios_presentes", 5.5, 350),
    ("telefonia", 4.0, 250),
    ("ferramentas_jardim", 4.0, 1800),
    ("automotivo", 3.8, 1000),
    ("brinquedos", 3.7, 800),
    ("cool_stuff", 3.4, 1500),
    ("perfumaria", 3.1, 350),
    ("bebes", 2.7, 1200),
    ("eletronicos", 2.4, 400),
    ("papelaria", 2.2, 500),
    ("fashion_bolsas_e_acessorios", 1.8, 400),
    ("pet_shop", 1.7, 1000),
    ("moveis_escritorio", 1.5, 9000),
    ("consoles_games", 1.0, 600),
    ("malas_acessorios", 1.0, 2500),
    ("construcao_ferramentas_construcao", 0.8, 2000),
    ("eletrodomesticos", 0.7, 4000),
    ("instrumentos_musicais", 0.6, 2000),
    ("eletroportateis", 0.6, 3000),
    ("casa_construcao", 0.5, 2000),
    ("livros_interesse_geral", 0.5, 500),
    ("alimentos", 0.45, 700),
    ("moveis_sala", 0.4, 8000),
    ("casa_conforto", 0.4, 2500),
    ("bebidas", 0.35, 1500),
    ("audio", 0.32, 500),
    ("market_place", 0.28, 1000),
    ("climatizacao", 0.26, 5000),
)
EMPTY_CATEGORY_SHARE = 0.015

# Review texts. Real comments carry commas, quoted words and line breaks; a CSV reader that
# splits on every comma or line end miscounts them, which is why some are here.
POSITIVE = (
    "Recomendo",
    "Produto muito bom, chegou antes do prazo.",
    "Otimo produto, recomendo!",
    "Chegou tudo certinho e bem embalado.",
    "Entrega rápida, produto de ótima qualidade.",
    "Gostei muito, superou minhas expectativas.",
    "Vendedor confiável, produto conforme o anúncio.",
    "Muito bom",
    "Produto excelente, entrega dentro do prazo, recomendo a loja.",
    "Amei! Chegou super rápido.",
    "Tudo perfeito, obrigada.",
    "Comprei para presente e a pessoa adorou.",
    "Produto de qualidade, preço justo e entrega rápida.",
    "Chegou antes do prazo.\nProduto muito bom!",
    'Exatamente como na foto, o "tamanho G" serviu perfeitamente.',
    "Bom custo beneficio",
    "Satisfeito com a compra. Recomendo a todos.",
    "Excelente!\nRecebi bem antes da data prevista.\nObrigado.",
    "Ótimo atendimento, produto original, nota 10.",
    'Chegou direitinho, "sem nenhum arranhão", parabéns ao vendedor.',
)
NEUTRAL = (
    "O produto é bom, mas a embalagem veio amassada.",
    "Demorou um pouco, mas chegou.",
    "Produto ok, nada demais.",
    "A cor é um pouco diferente da foto, mas gostei.",
    "Achei o material meio fraco para o preço.",
    "Veio sem manual, tive que procurar na internet.",
    "Chegou no prazo.\nA qualidade poderia ser melhor.",
    'O "kit completo" veio sem as pilhas, de resto tudo certo.',
)
NEGATIVE = (
    "Não recebi o produto.",
    "Ainda não recebi o produto e o prazo já passou.",
    "Produto veio com defeito, quero a troca.",
    "Comprei 2 unidades, mas só recebi 1.",
    "Péssimo, o produto chegou quebrado.",
    "Muito atraso na entrega, não recomendo.",
    "Recebi um produto diferente do que comprei, aguardo retorno da loja.",
    'Na caixa estava escrito "original", mas é claramente uma cópia.',
    "O prazo de entrega venceu e ninguém responde.\nQuero meu dinheiro de volta.",
    "Entrega atrasou mais de uma semana, produto ok.",
    "Veio faltando peças.\nJá entrei em contato, sem resposta.",
    "Não comprem desse vendedor",
    "Produto de má qualidade, arrependido da compra.",
)
TITLES_POSITIVE = ("Recomendo", "Ótimo", "Super recomendo", "Excelente", "Muito bom", "Adorei")
TITLES_NEUTRAL = ("Bom", "Razoável", "Ok")
TITLES_NEGATIVE = ("Não recebi", "Péssimo", "Atraso", "Produto com defeito", "Decepcionado")


@dataclass(frozen=True)
class Places:
    """Every city of the table as flat arrays, for vectorised draws."""

    state_codes: np.ndarray  # one per state
    customer_share: np.ndarray  # per state, sums to 1
    seller_share: np.ndarray
    remote: np.ndarray  # per state
    city_names: np.ndarray  # one per city
    city_state: np.ndarray
    city_cumulative: np.ndarray  # state index + cumulative share of the city within its state
    zip_first: np.ndarray
    zip_last: np.ndarray


def places() -> Places:
    names, states, shares, firsts, lasts = [], [], [], [], []
    for position, state in enumerate(STATES):
        weights = np.array([city[1] for city in state.cities], dtype=float)
        cumulative = np.cumsum(weights / weights.sum())
        cumulative[-1] = 1.0
        for city, share in zip(state.cities, cumulative.tolist(), strict=True):
            names.append(city[0])
            states.append(position)
            shares.append(position + share)
            firsts.append(city[2])
            lasts.append(city[3])
    customer = np.array([state.customer_share for state in STATES])
    seller = np.array([state.seller_share for state in STATES])
    return Places(
        state_codes=np.array([state.code for state in STATES]),
        customer_share=customer / customer.sum(),
        seller_share=seller / seller.sum(),
        remote=np.array([state.code in REMOTE_STATES for state in STATES]),
        city_names=np.array(names),
        city_state=np.array(states),
        city_cumulative=np.array(shares),
        zip_first=np.array(firsts),
        zip_last=np.array(lasts),
    )
