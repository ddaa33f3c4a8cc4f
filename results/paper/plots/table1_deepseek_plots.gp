# written by marill plot; run in this directory: gnuplot THIS_FILE
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1100,620 font ',10'
} else {
  set terminal png size 1100,620
}
set termoption noenhanced

reset
set datafile missing 'NaN'
set output 'table1_deepseek_fig4_prefill_time.png'
set title 'table1_deepseek: prefill, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:8.3454]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table1_deepseek_fig4_prefill_time.dat' using 2 title 'full', 'table1_deepseek_fig4_prefill_time.dat' using 3 title 'hm4', 'table1_deepseek_fig4_prefill_time.dat' using 4 title '2relu+hm4', 'table1_deepseek_fig4_prefill_time.dat' using 5 title 'lf+hm4', 'table1_deepseek_fig4_prefill_time.dat' using 6 title '2relu+lf+hm4', 'table1_deepseek_fig4_prefill_time.dat' using 7 title '2relu', 'table1_deepseek_fig4_prefill_time.dat' using 8 title 'hp4', 'table1_deepseek_fig4_prefill_time.dat' using 9 title 'hp2', 'table1_deepseek_fig4_prefill_time.dat' using 10 title 'hm4-adj', 'table1_deepseek_fig4_prefill_time.dat' using 11 title 'hm2-sim', 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (0 - 4.5) / 11.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (1 - 4.5) / 11.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (2 - 4.5) / 11.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (3 - 4.5) / 11.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (4 - 4.5) / 11.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (5 - 4.5) / 11.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (6 - 4.5) / 11.0):8:(sprintf('%.2f', $8)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (7 - 4.5) / 11.0):9:(sprintf('%.2f', $9)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (8 - 4.5) / 11.0):10:(sprintf('%.2f', $10)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_time.dat' using ($0 + (9 - 4.5) / 11.0):11:(sprintf('%.2f', $11)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table1_deepseek_fig4_prefill_comm.png'
set title 'table1_deepseek: prefill, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:7.75704]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table1_deepseek_fig4_prefill_comm.dat' using 2 title 'full', 'table1_deepseek_fig4_prefill_comm.dat' using 3 title 'hm4', 'table1_deepseek_fig4_prefill_comm.dat' using 4 title '2relu+hm4', 'table1_deepseek_fig4_prefill_comm.dat' using 5 title 'lf+hm4', 'table1_deepseek_fig4_prefill_comm.dat' using 6 title '2relu+lf+hm4', 'table1_deepseek_fig4_prefill_comm.dat' using 7 title '2relu', 'table1_deepseek_fig4_prefill_comm.dat' using 8 title 'hp4', 'table1_deepseek_fig4_prefill_comm.dat' using 9 title 'hp2', 'table1_deepseek_fig4_prefill_comm.dat' using 10 title 'hm4-adj', 'table1_deepseek_fig4_prefill_comm.dat' using 11 title 'hm2-sim', 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (0 - 4.5) / 11.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (1 - 4.5) / 11.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (2 - 4.5) / 11.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (3 - 4.5) / 11.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (4 - 4.5) / 11.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (5 - 4.5) / 11.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (6 - 4.5) / 11.0):8:(sprintf('%.2f', $8)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (7 - 4.5) / 11.0):9:(sprintf('%.2f', $9)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (8 - 4.5) / 11.0):10:(sprintf('%.2f', $10)) with labels offset 0,0.7 font ',8' notitle, 'table1_deepseek_fig4_prefill_comm.dat' using ($0 + (9 - 4.5) / 11.0):11:(sprintf('%.2f', $11)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table1_deepseek_table2_prefill_time.png'
set title 'table1_deepseek: prefill, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:7.99768]
set samples 400
plot 'table1_deepseek_table2_prefill_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=similar hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_time.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_time.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=4 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=2 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 6 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 7 using 1:2 with linespoints lw 2 pt 7 title '3pc m=2 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 8 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 9 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 10 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=similar hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_time.dat' index 11 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_time.dat' index 12 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=4 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 13 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=2 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 14 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_time.dat' index 15 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=2 grouping=similar hp=1 softmax=exact', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table1_deepseek_table2_prefill_comm.png'
set title 'table1_deepseek: prefill, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:7.43383]
set samples 400
plot 'table1_deepseek_table2_prefill_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=similar hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_comm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_comm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=4 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '3pc m=1 grouping=adjacent hp=2 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 6 using 1:2 with linespoints lw 2 pt 7 title '3pc m=4 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 7 using 1:2 with linespoints lw 2 pt 7 title '3pc m=2 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 8 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 9 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=similar hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 10 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=similar hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_comm.dat' index 11 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=1 softmax=2relu', 'table1_deepseek_table2_prefill_comm.dat' index 12 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=4 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 13 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=1 grouping=adjacent hp=2 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 14 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=4 grouping=adjacent hp=1 softmax=exact', 'table1_deepseek_table2_prefill_comm.dat' index 15 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer m=2 grouping=similar hp=1 softmax=exact', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table1_deepseek_ops_prefill_3pc.png'
set title 'table1_deepseek: prefill 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'hm4' 1, '2relu+hm4' 2, 'lf+hm4' 3, '2relu+lf+hm4' 4, '2relu' 5, 'hp4' 6, 'hp2' 7, 'hm4-adj' 8, 'hm2-sim' 9)
set key outside right top
plot 'table1_deepseek_ops_prefill_3pc.dat' using 2 title 'layers', 'table1_deepseek_ops_prefill_3pc.dat' using 3 title 'input', 'table1_deepseek_ops_prefill_3pc.dat' using 4 title 'argmax', 'table1_deepseek_ops_prefill_3pc.dat' using 5 title 'lm_head', 'table1_deepseek_ops_prefill_3pc.dat' using 6 title 'norm', 'table1_deepseek_ops_prefill_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'table1_deepseek_ops_prefill_2pc-dealer.png'
set title 'table1_deepseek: prefill 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'hm4' 1, '2relu+hm4' 2, 'lf+hm4' 3, '2relu+lf+hm4' 4, '2relu' 5, 'hp4' 6, 'hp2' 7, 'hm4-adj' 8, 'hm2-sim' 9)
set key outside right top
plot 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 2 title 'layers', 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 3 title 'input', 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 4 title 'argmax', 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 5 title 'lm_head', 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 6 title 'norm', 'table1_deepseek_ops_prefill_2pc-dealer.dat' using 7 title 'reveal'
unset output
