"""Word lists for the synthetic store: international names with diacritics, topics, places.

Names are grouped by region so that a lab's members share a naming culture, and surnames are
drawn from a short real list (heavily shared: Wang, Nguyễn, García) plus region-typical
root+suffix forms for the long tail (Dvořák, Ólafsdóttir, Kowalczyk).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A naming culture: given names, common surnames, surname morphology, places."""

    key: str
    weight: float
    given: tuple[str, ...]
    surnames: tuple[str, ...]
    roots: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    # Optional middle pieces between root and suffix ("Eich"+"en"+"berg").
    infixes: tuple[str, ...] = ()
    # Given names composed from two parts ("Zhi"+"wei", "Min"+"-jun", "Văn"+" Minh").
    given_parts: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    given_joiner: str = ""
    # Spanish/Portuguese researchers often publish under two surnames.
    double_surname: float = 0.0
    # "Wei Wang" also appears as "Wang Wei" on papers.
    family_first_alias: bool = False
    middle_initial: float = 0.0
    country: str = "US"
    cities: tuple[str, ...] = ()


def _w(text: str) -> tuple[str, ...]:
    """Whitespace-separated words; "_" joins words that belong together ("de_Jong")."""
    return tuple(word.replace("_", " ") for word in text.split())


REGIONS: tuple[Region, ...] = (
    Region(
        key="zh",
        weight=0.17,
        given=_w(
            "Wei Jing Li Xiaoming Yi Hao Min Lei Jun Yang Xin Yan Ying Hui Jian Ping Tao Qiang "
            "Xiaoyu Zhiwei Yuxuan Zihan Haoran Jiayi Ruoxi Mingyu Shuang Lin Fang Bo Chen Kai "
            "Lu Yue Xue Ning Rui Qian Dan Xiang Zhen"
        ),
        surnames=_w(
            "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
            "Zheng Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai "
            "Jiang Yu Du Ye Cheng Wei Su Lü"
        ),
        given_parts=(
            _w(
                "Zhi Xiao Jian Yu Hai Wen Jia Ming Xin Hong Guo Chun Li Yi Zi Hao Rui Si Shu "
                "Tian Qing Ya Jun Dong Lan Mei Bo Cheng Kai Xue"
            ),
            _w(
                "wei ming guo xuan han yu jie hua ling feng lin peng qi yan ting hui jun long na "
                "fang ning rong tao yi xin hao chen"
            ),
        ),
        family_first_alias=True,
        country="CN",
        cities=_w("Beijing Shanghai Wuhan Nanjing Hangzhou Chengdu Xiamen Tianjin Harbin Xi'an"),
    ),
    Region(
        key="en",
        weight=0.13,
        given=_w(
            "John Emma Sarah James Michael Emily David Laura Robert Anna Thomas Rachel Daniel "
            "Hannah Matthew Grace Siobhán Seán Zoë Chloë Aoife Niamh Brendan Catherine Peter "
            "Rebecca Andrew Jessica Christopher Amelia William Olivia Benjamin Charlotte Lucy "
            "Nathan Megan Patrick Alice Samuel Eleanor"
        ),
        surnames=_w(
            "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
            "Martin Jackson White Harris Clark Lewis Walker Hall Young King Wright Scott Green "
            "Baker Adams Nelson Hill Campbell Murphy Kelly O'Brien O'Connor Ó_Súilleabháin "
            "Mac_Giolla Byrne Ryan Walsh Doyle McCarthy"
        ),
        roots=_w(
            "Ash Black Brad Brook Craw Fair Hart Hol Kings Lang Mar Nor Red Rich Stan Thorn Wal "
            "West Whit Wood"
        ),
        infixes=_w("ing er en s"),
        suffixes=_w("ford ley ton wood field well by worth man son"),
        middle_initial=0.35,
        country="US",
        cities=_w(
            "Boston Chicago Austin Seattle Denver Atlanta Oxford Cambridge Dublin Galway Toronto "
            "Sydney Melbourne Edinburgh Manchester Auckland Berkeley Princeton"
        ),
    ),
    Region(
        key="de",
        weight=0.07,
        given=_w(
            "Jürgen Jörg Björn Ute Günther Käthe Lukas Lena Maximilian Sophie Felix Johanna "
            "Tobias Katrin Matthias Anja Stefan Sabine Andreas Birgit Florian Jana Ralf Dörte "
            "Uwe Sönke Maren Jan"
        ),
        surnames=_w(
            "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
            "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
            "Hofmann Hartmann Lange Köhler Weiß Jäger Groß Bäcker Böhm Möller Brückner"
        ),
        roots=_w(
            "Alten Eich Frank Gold Grün Hoch Kirch Linden Mittel Ober Rosen Schön Stein Tann Wald Weiden"
        ),
        infixes=_w("en el er s"),
        suffixes=_w("berg bach mann hauer hofer müller reiter feld horst burg"),
        middle_initial=0.2,
        country="DE",
        cities=_w(
            "München Berlin Hamburg Köln Göttingen Tübingen Heidelberg Würzburg Zürich Wien Graz "
            "Düsseldorf Münster Jena Bonn"
        ),
    ),
    Region(
        key="fr",
        weight=0.06,
        given=_w(
            "François Zoë Hélène Clémence Jérôme Benoît Anaïs Gaëlle Loïc Céline Théo Élodie "
            "Amélie Stéphane Frédéric Mathéo Maëlle Noémie Raphaël Léa Chloé Inès Cédric Agnès "
            "Sébastien Aurélien"
        ),
        surnames=_w(
            "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
            "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Girard Bonnet Dupré "
            "Béranger Mégret Bérubé Ménard Chénier Lemaître Faure Gauthier Perrin Rivière"
        ),
        roots=_w("Beau Mont Rou Ber Duf Chev Fon Lam Bou Gir Mor Lef Tess Pel Cor Dela"),
        infixes=_w("on ou el"),
        suffixes=_w("ard ier eau et elle ois aux in ot enne"),
        middle_initial=0.05,
        country="FR",
        cities=_w(
            "Paris Lyon Marseille Toulouse Grenoble Bordeaux Lille Nantes Strasbourg Montpellier "
            "Rennes Nice Québec Montréal Genève Lausanne Liège"
        ),
    ),
    Region(
        key="es",
        weight=0.08,
        given=_w(
            "José María Sebastián Lucía Martín Sofía Alejandro Valentina Andrés Camila Javier "
            "Paula Jesús Inés Ángel Begoña Íñigo Nuria Raúl Mónica Óscar Verónica Rubén Pilar "
            "Joaquín Ramón Ana Diego Carmen"
        ),
        surnames=_w(
            "García González Rodríguez Fernández López Martínez Sánchez Pérez Gómez Martín "
            "Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro "
            "Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Suárez Peña Castillo "
            "Ortega Rubio Márquez Ibáñez Cortés"
        ),
        double_surname=0.6,
        country="ES",
        cities=_w(
            "Madrid Barcelona Valencia Sevilla Zaragoza Málaga Bilbao Granada Córdoba Salamanca "
            "Bogotá Medellín Ciudad_de_México Guadalajara Santiago Lima Buenos_Aires Montevideo "
            "Quito"
        ),
    ),
    Region(
        key="pt",
        weight=0.05,
        given=_w(
            "João Maria Conceição Inês Gonçalo Beatriz Tomás Leonor Rodrigo Mariana André Luísa "
            "Vitória Caio Thaís Letícia Júlia Sérgio Antônio Fábio Márcio Cláudia Flávia"
        ),
        surnames=_w(
            "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Jesus Sousa "
            "Fernandes Gonçalves Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho "
            "Teixeira Moreira Correia Mendes Nunes Araújo Magalhães Conceição Simões Guimarães "
            "Brandão Falcão"
        ),
        double_surname=0.55,
        middle_initial=0.15,
        country="BR",
        cities=_w(
            "São_Paulo Rio_de_Janeiro Campinas Belo_Horizonte Porto_Alegre Recife Florianópolis "
            "Brasília Lisboa Porto Coimbra Braga Aveiro"
        ),
    ),
    Region(
        key="it",
        weight=0.05,
        given=_w(
            "Giuseppe Francesca Niccolò Chiara Lorenzo Giulia Matteo Alessia Davide Federica "
            "Andrea Ilaria Riccardo Elisa Tommaso Martina Nicolò Marco Paola"
        ),
        surnames=_w(
            "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
            "Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana "
            "Santoro Mariani Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile"
        ),
        roots=_w("Bel Mar Ross Cap Fer Gal Lom Ver Sant Mor Bert Pell Cer Tor Bon Mann Vit Sal"),
        infixes=_w("ar el in ol"),
        suffixes=_w("ini etti ello one ucci ari otti ieri azzi ese"),
        middle_initial=0.1,
        country="IT",
        cities=_w("Milano Roma Torino Bologna Padova Pisa Napoli Firenze Trento Genova Pavia"),
    ),
    Region(
        key="in",
        weight=0.08,
        given=_w(
            "Priya Arjun Ananya Samyadeep Rahul Aditi Vikram Sneha Rohan Kavya Aarav Ishita "
            "Siddharth Pooja Aditya Neha Karthik Divya Sanjay Lakshmi Anirban Debashis Sourav "
            "Meenakshi Venkatesh Harpreet Gurpreet Nikhil Shreya Abhishek"
        ),
        surnames=_w(
            "Sharma Patel Gupta Basu Chatterjee Iyer Reddy Nair Singh Kumar Das Banerjee "
            "Mukherjee Rao Joshi Mehta Shah Verma Agarwal Bhattacharya Ghosh Sen Pillai Krishnan "
            "Menon Kapoor Malhotra Chakraborty Dutta Bose Saxena Kulkarni Desai"
        ),
        roots=_w(
            "Rama Subra Krishna Nara Venkata Gopala Sri Bala Chandra Raghu Siva Hari Vijaya Muthu Sundar"
        ),
        suffixes=_w("n nian swamy murthy chandran raman moorthy nathan kumar"),
        middle_initial=0.2,
        country="IN",
        cities=_w(
            "Bengaluru Mumbai Delhi Chennai Kolkata Hyderabad Pune Kanpur Kharagpur Roorkee Guwahati Mysuru"
        ),
    ),
    Region(
        key="ja",
        weight=0.04,
        given=_w(
            "Yūki Shōta Hiroshi Kenji Yūko Haruka Takashi Naoko Kōji Sayaka Daisuke Megumi "
            "Ryōta Aiko Shin'ichi Tomoko Kazuki Yōsuke Emi Satoshi"
        ),
        surnames=_w(
            "Satō Suzuki Takahashi Tanaka Watanabe Itō Yamamoto Nakamura Kobayashi Katō Yoshida "
            "Yamada Sasaki Yamaguchi Saitō Matsumoto Inoue Kimura Hayashi Shimizu Kōno Ōta Ōno "
            "Gotō Kondō"
        ),
        roots=_w("Yama Naka Taka Matsu Ishi Kawa Fuji Hashi Mori Ō Kō Sakura Nishi Higa Kita Aoki Ono Hira"),
        suffixes=_w("moto mura da shita zaki gawa no uchi ta hara kubo"),
        country="JP",
        cities=_w("Tōkyō Kyōto Ōsaka Sendai Nagoya Sapporo Fukuoka Kōbe Tsukuba Hiroshima"),
    ),
    Region(
        key="ko",
        weight=0.03,
        given=_w(
            "Min-jun Seo-yeon Ji-woo Ha-eun Do-yun Seo-jun Ji-ho Su-bin Hyun-woo Ye-jin "
            "Jae-hyun Eun-ji Sung-min Hye-jin Dong-hyun Yeon-woo"
        ),
        surnames=_w("Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song"),
        given_parts=(
            _w("Min Ji Seo Hyun Jae Eun Sung Dong Ye Ha Do Su Yeon Hye Joon Young Sang Kyung"),
            _w("jun woo yeon eun yun ho bin jin hoon won seok ah kyu min hee sik"),
        ),
        given_joiner="-",
        family_first_alias=True,
        country="KR",
        cities=_w("Seoul Daejeon Busan Pohang Incheon Gwangju Daegu Suwon"),
    ),
    Region(
        key="vi",
        weight=0.025,
        given=_w(
            "Thị_Hương Văn_Minh Đức_Anh Quỳnh Thảo Hoàng_Long Thu_Trang Minh_Châu Quốc_Bảo "
            "Ngọc_Ánh Tuấn Phương Hải_Yến Thanh_Hà Đình_Khoa Bích_Ngọc"
        ),
        surnames=_w("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý"),
        given_parts=(
            _w("Văn Thị Đức Minh Quốc Thanh Ngọc Hoàng Hữu Xuân Thu Bích"),
            _w(
                "Hương Minh Anh Quỳnh Thảo Long Trang Châu Bảo Ánh Tuấn Phương Yến Hà Khoa Dũng "
                "Hùng Lan Mai Hoa Tâm Nam Thủy Hiếu"
            ),
        ),
        given_joiner=" ",
        family_first_alias=True,
        country="VN",
        cities=_w("Hà_Nội Hồ_Chí_Minh Đà_Nẵng Huế Cần_Thơ Hải_Phòng"),
    ),
    Region(
        key="nordic",
        weight=0.04,
        given=_w(
            "Søren Åsa Björn Sigríður Ólafur Jón Guðrún Freyja Lars Ingrid Mette Jørgen Kåre "
            "Sölvi Ásta Þóra Eiríkur Halldóra Nils Sigrún Anders Britt Maja Henrik"
        ),
        surnames=_w(
            "Jensen Nielsen Hansen Pedersen Andersen Larsen Johansson Karlsson Nilsson Eriksson "
            "Lindqvist Bergström Haugen Hagen Johansen Sørensen Kristiansen Ólafsdóttir Jónsson "
            "Sigurðsson Guðmundsdóttir Magnússon"
        ),
        roots=_w(
            "Ólafs Jóns Sigurðs Guðmunds Ander Niel Peder Halvor Ing Sven Ragn Gunn Lind Sjö "
            "Berg Dahl Holm Eke Häg Ström Lund"
        ),
        infixes=_w("er e a"),
        suffixes=_w("son sen dóttir ström berg gaard lund qvist dahl"),
        middle_initial=0.1,
        country="SE",
        cities=_w(
            "København Århus Odense Göteborg Uppsala Lund Stockholm Linköping Oslo Trondheim "
            "Bergen Tromsø Reykjavík Helsinki Turku"
        ),
    ),
    Region(
        key="slavic",
        weight=0.05,
        given=_w(
            "Łukasz Wojciech Małgorzata Jiří Petr Zuzana Katarzyna Miloš Agnieszka Paweł Michał "
            "Żaneta Grzegorz Jakub Tereza Ondřej Radek Šárka Dušan Ivana Mirosław Bożena Tomáš "
            "Vojtěch Dragan Milica Nikola Ana"
        ),
        surnames=_w(
            "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
            "Szymański Woźniak Dąbrowski Dvořák Novák Svoboda Novotný Černý Procházka Kučera "
            "Veselý Horák Němec Marek Pokorný Jovanović Petrović Nikolić Marković Đorđević "
            "Horvat Kovačević Babić"
        ),
        roots=_w(
            "Dvoř Nov Kowal Wiśniew Lewan Kaczmar Zieliń Svob Horv Petr Jank Pawl Kozł Mazur "
            "Krawcz Wróbl Čern Stojan Radov Jovan Kraj Mroz"
        ),
        infixes=_w("ow an ec in"),
        suffixes=_w("ák ski ska ová ek ić ević czyk ov ik eč"),
        country="PL",
        cities=_w(
            "Warszawa Kraków Łódź Wrocław Poznań Gdańsk Praha Brno Ostrava Olomouc Bratislava "
            "Košice Beograd Novi_Sad Zagreb Ljubljana"
        ),
    ),
    Region(
        key="tr",
        weight=0.03,
        given=_w(
            "Ayşe Gülşen Ömer Şükrü İsmail Çağrı Emre Elif Büşra Oğuz Gökhan Özge Şeyma Tuğba "
            "Uğur Barış Merve Hakan Özlem Cem"
        ),
        surnames=_w(
            "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan "
            "Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek Erdoğan Güneş Aksoy"
        ),
        roots=_w("Kara Ak Ay Demir Er Gül Kaya Öz Taş Yıl Tun Çak Bal Gök"),
        infixes=_w("al er"),
        suffixes=_w("oğlu can han kaya türk soy er"),
        middle_initial=0.1,
        country="TR",
        cities=_w("İstanbul Ankara İzmir Bursa Eskişehir Trabzon Konya Antalya Erzurum"),
    ),
    Region(
        key="hu",
        weight=0.015,
        given=_w(
            "Zoltán Péter Erzsébet Gábor Katalin László Ágnes Tamás Zsófia Balázs Krisztina "
            "Ádám Eszter Gergő Réka Máté"
        ),
        surnames=_w(
            "Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár Németh Farkas Balogh Papp Takács "
            "Juhász Lakatos Mészáros Oláh Simon Rácz Fekete Szűcs Vörös Bíró Hegedűs"
        ),
        roots=_w("Szent Kis Fehér Nagy Hegy Vár Bor Sza Kör Ör Dob Rét"),
        suffixes=_w("házi falvi vári hegyi völgyi mezei kúti"),
        middle_initial=0.1,
        country="HU",
        cities=_w("Budapest Szeged Debrecen Pécs Győr Miskolc"),
    ),
    Region(
        key="gr",
        weight=0.015,
        given=_w(
            "Giorgos Eleni Dimitris Maria Nikos Katerina Yannis Sofia Kostas Ioanna Panagiotis "
            "Vasiliki Christos Athina"
        ),
        surnames=_w(
            "Papadopoulos Georgiou Nikolaidis Papadakis Vlachos Oikonomou Karagiannis Dimitriou "
            "Ioannou Christodoulou Konstantinidis Antoniou"
        ),
        roots=_w("Papa Georgi Nikola Konstantin Dimitr Vasil Athanas Stavr Kyriak Manol"),
        infixes=_w("ak an"),
        suffixes=_w("opoulos idis akis ou iadis elis"),
        middle_initial=0.2,
        country="GR",
        cities=_w("Athína Thessaloníki Pátra Irákleio Ioánnina"),
    ),
    Region(
        key="ro",
        weight=0.015,
        given=_w(
            "Ștefan Ioana Răzvan Andreea Mihai Cătălina Bogdan Alexandra Tudor Mădălina Călin "
            "Irina Adrian Oana Dragoș"
        ),
        surnames=_w(
            "Popescu Ionescu Dumitrescu Țurcanu Stan Stoica Gheorghe Rusu Munteanu Matei "
            "Constantin Șerban Lungu Dobre Neagu"
        ),
        roots=_w("Pop Ion Dumitr Marin Vasil Georg Radu Nicol Petr Stoic Bălan Mocan"),
        infixes=_w("ov an"),
        suffixes=_w("escu eanu aru ache"),
        middle_initial=0.2,
        country="RO",
        cities=_w("București Cluj-Napoca Iași Timișoara Brașov Constanța"),
    ),
    Region(
        key="ar",
        weight=0.03,
        given=_w(
            "Mohammed Fatima Aisha Omar Youssef Layla Karim Nour Hassan Mariam Tarek Rania Ahmed "
            "Salma Khalid Yasmin Amira Mustafa"
        ),
        surnames=_w(
            "El-Amin Haddad Mansour Al-Farsi Khalil Hamdan Nasser Saleh Abdallah Ibrahim Hassan "
            "Aziz Farouk El-Sayed Al-Rashid Bakr Qureshi Benali Haddou Bensalem"
        ),
        roots=_w("Al-Rash Al-Hash Al-Zahr Al-Qaht El-Sham Ben-Ham Al-Mahm El-Kab Al-Nour"),
        suffixes=_w("idi imi ani awi oudi ari"),
        middle_initial=0.3,
        country="EG",
        cities=_w("Cairo Alexandria Riyadh Jeddah Doha Dubai Amman Beirut Tunis Rabat Algiers"),
    ),
    Region(
        key="ng",
        weight=0.015,
        given=_w(
            "Chiamaka Oluwaseun Adéwálé Ọlábísí Chukwuemeka Ngozi Babátúndé Folasade Ifeoma "
            "Tèmítọ́pẹ́ Obinna Kelechi Adaeze Yétúndé"
        ),
        surnames=_w(
            "Okonkwo Adeyemi Ògúnlẹ́yẹ Okafor Eze Adébáyọ̀ Nwosu Balogun Ogunbiyi Olúwọlé Chukwu "
            "Obi Ibeh Àjàyí Onyekachi"
        ),
        roots=_w("Ade Olu Chi Oba Ogun Ola Ako Nwa Ike Ayo"),
        suffixes=_w("yemi wale bayo kunle nna ike dele sola gbemi"),
        middle_initial=0.2,
        country="NG",
        cities=_w("Lagos Ibadan Ilé-Ifẹ̀ Nsukka Zaria Abuja Enugu Accra Kumasi Nairobi"),
    ),
    Region(
        key="nl",
        weight=0.02,
        given=_w(
            "Daan Sanne Bram Fleur Joost Marieke Sjoerd Anouk Thijs Femke Gijs Eline Wouter Noor Rutger Lotte"
        ),
        surnames=_w(
            "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Visser Smit Meijer de_Boer "
            "Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit"
        ),
        roots=_w("Ver Van_der_Hoe Vande Hoog Kooi Kuy Meer Wester Ooster Zwart"),
        infixes=_w("en er"),
        suffixes=_w("beek hoven veld kamp stra dijk berg"),
        middle_initial=0.2,
        country="NL",
        cities=_w(
            "Amsterdam Utrecht Leiden Delft Groningen Eindhoven Nijmegen Rotterdam Leuven Gent Antwerpen"
        ),
    ),
)

TOPIC_FIELDS: tuple[str, ...] = tuple(
    """Quantum Computing|Protein Folding|Soil Microbiology|Graph Neural Networks|Battery Materials
|Climate Modeling|Gene Regulation|Cancer Immunotherapy|Dark Matter|Galaxy Formation
|Computer Vision|Natural Language Processing|Reinforcement Learning|Federated Learning
|Cryptography|Distributed Systems|Compiler Optimization|Robotics Control|Autonomous Driving
|Speech Recognition|Photonic Devices|Topological Insulators|Superconductivity|Catalysis
|Polymer Chemistry|Drug Delivery|Antibiotic Resistance|Neurodegenerative Diseases
|Cardiovascular Imaging|Epidemiology of Infectious Diseases|Ocean Acidification|Coral Reefs
|Forest Ecology|Urban Hydrology|Seismology|Volcanology|Glaciology|Atmospheric Chemistry
|Renewable Energy Systems|Power Grid Stability|Wind Turbines|Solar Cells|Hydrogen Storage
|Additive Manufacturing|Composite Materials|Tribology|Fluid Dynamics|Turbulence|Plasma Physics
|Nuclear Fusion|Particle Detectors|Gravitational Waves|Exoplanets|Stellar Evolution
|Number Theory|Algebraic Geometry|Stochastic Processes|Optimization Algorithms
|Causal Inference|Bayesian Statistics|Econometrics|Labor Economics|Monetary Policy
|Education Technology|Cognitive Neuroscience|Language Acquisition|Social Networks
|Public Health Policy|Health Informatics|Medical Imaging|Wearable Sensors|Food Security
|Crop Genomics|Animal Behavior|Microbiome Research|Virology|Stem Cells|Single-Cell Sequencing
|Scholarly Communication|Research Software|Information Retrieval|Recommender Systems
|Human-Computer Interaction|Privacy Engineering|Software Testing""".replace("\n", "").split("|")
)

TOPIC_TEMPLATES: tuple[str, ...] = tuple(
    """Advances in {}|{} and Applications|Computational {}|{} Research|Machine Learning for {}
|{} Modeling and Simulation|Experimental {}|Theoretical {}|{} in Clinical Practice
|Statistical Methods in {}|{} Measurement Techniques|Data-Driven {}|{} under Uncertainty
|Scalable {}|{} and Sustainability|Emerging Trends in {}|{} Benchmarks and Datasets
|Interpretable {}|{} at Scale|Low-Resource {}|{} for Developing Regions|Multiscale {}
|{} Policy and Governance|Ethics of {}|{} Education|Robust {}|{} Instrumentation
|High-Throughput {}|{} and Public Health|Nonlinear {}|{} Inverse Problems|Quantum {}
|{} Materials Characterization|Real-Time {}|{} in Extreme Environments|Bio-Inspired {}
|{} Sensor Networks|Probabilistic {}|{} Reproducibility|Open Data for {}|{} Visualization
|Long-Term {} Studies|{} and Society|Energy-Efficient {}|{} Security|Hybrid {}
|{} Signal Processing|Mechanistic {}|Comparative {}|{} Optimization|Spatial {}
|Temporal Dynamics of {}|{} Networks|Precision {}|{} Uncertainty Quantification
|Generative Models for {}|{} Control Systems|Distributed {}|{} Metrology""".replace("\n", "").split("|")
)

INSTITUTION_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("University of {}", "u-{}"),
    ("{} University", "{}-univ"),
    ("{} Institute of Technology", "{}-tech"),
    ("Technical University of {}", "tu-{}"),
    ("{} Medical Center", "{}-med"),
    ("National Laboratory of {}", "nl-{}"),
    ("{} Research Institute", "{}-ri"),
    ("{} School of Economics", "{}-econ"),
    ("Polytechnic of {}", "poly-{}"),
    ("{} Cancer Centre", "{}-cancer"),
    ("{} Observatory", "{}-obs"),
    ("{} Academy of Sciences", "{}-acad"),
    ("{} Institute of Public Health", "{}-iph"),
    ("{} College", "{}-college"),
    ("{} Centre for Data Science", "{}-data"),
    ("{} Max-Planck Partner Institute", "{}-mpp"),
    ("{} Agricultural University", "{}-agri"),
    ("{} Institute for Advanced Study", "{}-ias"),
    ("{} Children's Hospital", "{}-kids"),
    ("{} Marine Station", "{}-marine"),
    ("{} Graduate School", "{}-grad"),
    ("{} Normal University", "{}-normal"),
    ("{} Institute of Chemistry", "{}-chem"),
    ("{} Institute of Physics", "{}-phys"),
    ("{} Biocenter", "{}-bio"),
)

TLD = {"US": "edu", "CN": "edu.cn", "DE": "de", "FR": "fr", "ES": "es", "BR": "br", "IT": "it",
       "IN": "ac.in", "JP": "ac.jp", "KR": "ac.kr", "VN": "edu.vn", "SE": "se", "PL": "pl",
       "TR": "edu.tr", "HU": "hu", "GR": "gr", "RO": "ro", "EG": "edu.eg", "NG": "edu.ng",
       "NL": "nl"}  # fmt: skip

JOURNALS: tuple[str, ...] = tuple(
    """Nature|Science|Cell|PLOS ONE|Scientific Reports|Nature Communications|eLife
|Physical Review Letters|Physical Review B|Physical Review D|The Astrophysical Journal
|Journal of Machine Learning Research|IEEE Transactions on Pattern Analysis and Machine Intelligence
|ACM Computing Surveys|Bioinformatics|Nucleic Acids Research|The Lancet|BMJ Open
|Journal of the American Chemical Society|Angewandte Chemie|Advanced Materials|Nano Letters
|Geophysical Research Letters|Journal of Climate|Ecology Letters|Global Change Biology
|Journal of Econometrics|American Economic Review|Psychological Science|NeuroImage
|Journal of Fluid Mechanics|Combustion and Flame|Energy & Environmental Science
|Annals of Mathematics|Inventiones Mathematicae|Journal of Statistical Software
|Proceedings of NeurIPS|Proceedings of ICML|Proceedings of ACL|Proceedings of CHI
|Proceedings of SIGMOD|Proceedings of the VLDB Endowment|Revista Española de Cardiología
|Zeitschrift für Naturforschung|Comptes Rendus Physique|Acta Physica Polonica
|Química Nova|Journal of Informetrics|Scientometrics|Quantitative Science Studies""".replace("\n", "").split(
        "|"
    )
)

PREPRINT_SERVERS: tuple[tuple[str, float], ...] = (
    ("arXiv", 0.7),
    ("bioRxiv", 0.12),
    ("medRxiv", 0.06),
    ("SSRN", 0.06),
    ("Research Square", 0.06),
)

TITLE_METHODS: tuple[str, ...] = tuple(
    """A scalable approach|Learning|Robust estimation|A unified framework|Revisiting
|Towards interpretable|Efficient inference|Benchmarking|A longitudinal study|Quantifying
|Uncovering|Modeling|Rethinking|Multi-scale analysis|Evidence|Self-supervised learning
|A randomized trial|Fast algorithms|Probing|Controlling|Mapping|Measuring|Predicting
|On the stability|Characterizing|Designing|Disentangling|Inferring|Scaling laws""".replace("\n", "").split(
        "|"
    )
)

TITLE_LINKS: tuple[str, ...] = ("for", "of", "in", "with", "beyond", "under", "across")

TITLE_OBJECTS: tuple[str, ...] = tuple(
    """sparse observations|heterogeneous populations|noisy labels|extreme events|rare variants
|coupled oscillators|urban mobility|citation networks|protein complexes|soil carbon
|ice sheets|electron transport|policy interventions|transfer learning|molecular dynamics
|graph signals|mixed-effects models|small samples|open-source software|clinical cohorts
|tropical forests|gut bacteria|spin chains|supply chains|ionic liquids|dark energy
|seismic waves|language models|student outcomes|immune responses|retinal images""".replace("\n", "").split(
        "|"
    )
)

ABSTRACT_SENTENCES: tuple[str, ...] = (
    "We study {o} in the context of {t}.",
    "Existing methods for {t} often fail when data are scarce or heterogeneous.",
    "We propose a {a} method that exploits the structure of {o}.",
    "Our analysis covers {n} samples collected between {y1} and {y2}.",
    "Experiments on {n} benchmark instances show consistent improvements over strong baselines.",
    "The results suggest that {o} play a larger role in {t} than previously assumed.",
    "We release code and data to support reproducible research on {t}.",
    "A theoretical analysis establishes convergence under mild assumptions.",
    "We discuss limitations, including sensitivity to {o}, and outline future work.",
    "Compared with prior work, our approach reduces error by {p} percent.",
    "These findings have implications for practitioners working on {t}.",
    "We further validate the approach in a case study on {o}.",
    "Ablation studies identify which components matter most.",
    "Taken together, this work provides a {a} foundation for {t}.",
)

ABSTRACT_ADJECTIVES: tuple[str, ...] = _w(
    "simple principled scalable robust lightweight general interpretable data-efficient modular"
)
